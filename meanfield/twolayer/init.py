"""Initial laws rho_0 for two-layer parameters theta = (a, w)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks


@dataclass(frozen=True)
class InitialLaw:
    """Product law: ``a ~ N(a_mean, a_std^2)``, ``w ~ N(0, (w_std^2 / d) I_d)``.

    With ``a_law="uniform"`` the output weights are uniform on ``a_mean +-
    sqrt(3) a_std`` (the same mean and variance), a law of bounded support as
    assumption (A4) asks: ``|a_i^0| <= K_4``.

    ``|w|`` concentrates at ``w_std``, independently of d and N.

    References
    ----------
    Shevchenko & Mondelli, "Landscape connectivity and dropout stability of SGD
    solutions for over-parameterized neural networks", ICML 2020, assumption (A4): i.i.d.
    initial neurons from rho_0.
    """

    a_mean: float = 0.0
    a_std: float = 1.0
    w_std: float = 1.0
    a_law: str = "gaussian"

    def __post_init__(self):
        try:
            ok = np.isfinite(float(self.a_mean))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"a_mean must be a finite number, got {self.a_mean!r}")
        _checks.nonneg("a_std", self.a_std)
        _checks.nonneg("w_std", self.w_std)
        _checks.a_law(self.a_law)

    def sample(self, n, d, rng):
        """Draw ``(a, W)`` with shapes (n,) and (n, d); ``a`` first, then ``W``."""
        n = _checks.nonneg_int("n", n)
        d = _checks.positive_int("d", d)
        rng = _checks.generator(rng)
        a = self.a_mean + self.a_std * _checks.standardised_draws(self.a_law, n, rng)
        W = (self.w_std / np.sqrt(d)) * rng.standard_normal((n, d))
        return a, W
