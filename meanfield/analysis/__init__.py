"""Rates in N, log-log fits and bootstrap intervals."""

from .rates import RateFit, loglog_fit

__all__ = ["RateFit", "loglog_fit"]
