"""Benchmarks of xconv against the peers installed: `python -m benchmarks --help`.

Workloads are data (`workloads.py`), peers are small adapters (`peers.py`), timing
alternates peers within one process (`timing.py`) and the report is a rich table plus
`results.md` / `results.json` (`report.py`).

All peers share one process, so their thread pools must not busy-wait for work after a
call: OpenBLAS (NumPy, SciPy) spins for about 0.1 s and GNU OpenMP (PyTorch) spins too,
and a spinning pool of one library halves the speed of the next library's call on a
2-core machine. The defaults below make idle threads sleep at once; they are set before
NumPy or PyTorch is imported (set the variables yourself to override them).
"""

import os

WAIT_POLICY = {"OPENBLAS_THREAD_TIMEOUT": "4", "OMP_WAIT_POLICY": "PASSIVE"}
for _name, _value in WAIT_POLICY.items():
    os.environ.setdefault(_name, _value)
