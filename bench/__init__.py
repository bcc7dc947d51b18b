"""Benchmarks: `python -m bench NAME [--small]`; each prints one JSON object of figures as its last line."""
