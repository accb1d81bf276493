"""Unit tests: in-process, no subprocess of ours; `pytest -m "not slow"` runs them alone."""
