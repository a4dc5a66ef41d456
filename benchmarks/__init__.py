"""dtrctl's benchmarks (issue 7): `python benchmarks/run.py [--quick]` writes RESULTS.md."""
