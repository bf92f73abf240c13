"""meanfield: the numerical side of mean-field theory of neural networks.

Subpackages: :mod:`meanfield.tasks` (data and exact population kernels),
:mod:`meanfield.twolayer` (SGD, limit dynamics, coupling),
:mod:`meanfield.analysis` (rates), :mod:`meanfield.plotting`,
:mod:`meanfield.transport`.
"""

__version__ = "0.1.0"
