"""meanfield: the numerical side of mean-field theory of neural networks.

Subpackages: :mod:`meanfield.tasks` (data and exact population kernels),
:mod:`meanfield.twolayer` (SGD, limit dynamics, coupling),
:mod:`meanfield.analysis` (rates), :mod:`meanfield.plotting`,
:mod:`meanfield.transport`.
"""

__version__ = "0.1.0"


def load(folder):
    """All finished results of the sweep in ``folder`` as one pandas DataFrame.

    See :func:`meanfield.experiments.load`.
    """
    from .experiments.store import load as _load

    return _load(folder)
