"""Benchmarks, run on demand (never part of the test suite); results are recorded in docs/benchmarks.md."""
