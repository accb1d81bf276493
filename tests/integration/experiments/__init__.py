"""Integration tests of dynamos_plugin.experiments: the runner driving a fake Mammoth (or the real one, for the
Seq-SVHN timing) in a subprocess, and ./run_experiments.sh itself."""
