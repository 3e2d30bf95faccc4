"""Benchmarks, each runnable as `python -m bench.<scenario>`; results go to bench/results/."""
