"""meanfield: the numerical side of mean-field theory of neural networks."""

__version__ = "0.1.0"
