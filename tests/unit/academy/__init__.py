"""Unit tests of the pure-Python Academy engine (no app, no database)."""
