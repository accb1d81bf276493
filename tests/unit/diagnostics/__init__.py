"""Unit tests of dynamos_plugin.diagnostics."""
