"""Benchmarks of the Partnership Assistant: `python -m bench [--quick] [--out DIR]` (see bench/__main__.py)."""
