"""Benchmark harness for issue 8 (`make bench`, TIER=city|province); see bench/run.py."""
