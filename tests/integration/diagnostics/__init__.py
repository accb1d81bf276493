"""Integration tests of dynamos_plugin.diagnostics: the commands on a checkpoint that Mammoth trained in a subprocess."""
