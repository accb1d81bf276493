"""Integration tests: they start Mammoth or another program in a subprocess; all marked `slow` (tests/conftest.py)."""
