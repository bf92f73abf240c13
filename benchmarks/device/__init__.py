"""The parts of benchmarks/device_run.py (the GPU slot's one command): :mod:`.staging` (the
machine: paths, ``--prepare``, numba's warm-up), :mod:`.steps` (the six steps, registered
by name with their shares of the budget, and the budget) and :mod:`.report`."""
