"""Unit tests of dynamos_plugin.experiments (the runner's grids, records, logs and report), in-process."""
