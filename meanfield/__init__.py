"""meanfield: the numerical side of mean-field theory of neural networks.

Subpackages: :mod:`meanfield.tasks` (data, exact population kernels, real
data sets), :mod:`meanfield.twolayer` (SGD, limit dynamics, coupling, dropout,
paths), :mod:`meanfield.multilayer` (eq. 4.1 nets, SGD 4.3, Monte Carlo risk),
:mod:`meanfield.connectivity` (paths through dropout networks, any depth),
:mod:`meanfield.lazy` (Du et al.), :mod:`meanfield.torch` (real networks,
optional), :mod:`meanfield.experiments` (sweeps), :mod:`meanfield.analysis`
(rates), :mod:`meanfield.plotting`, :mod:`meanfield.transport`.
"""

__version__ = "0.1.0"

#: How to install torch, everywhere the package says it: the CPU wheel pinned
#: first, since an unpinned ``pip install torch`` on Linux fetches the
#: multi-GB CUDA build.
TORCH_HINT = "pip install torch==2.13.0 (the CPU wheel; pin it before pip install 'meanfield[torch]')"


def load(folder):
    """All finished results of the sweep in ``folder`` as one pandas DataFrame.

    See :func:`meanfield.experiments.load`.
    """
    from .experiments.store import load as _load

    return _load(folder)
