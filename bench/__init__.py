"""hazmon benchmarks: `python -m bench.run` (see docs/PERFORMANCE.md). Not installed with hazmon."""
