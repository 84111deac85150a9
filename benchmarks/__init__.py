"""Benchmarks of xconv against the peers installed: `python -m benchmarks --help`.

Workloads are data (`workloads.py`), peers are small adapters (`peers.py`), timing
alternates peers within one process (`timing.py`) and the report is a rich table plus
`results.md` / `results.json` (`report.py`).
"""
