"""Numba kernels for Gaussian expectations of pairs of activations.

For a centred bivariate normal ``(g1, g2)`` with ``Var g1 = q11``,
``Var g2 = q22`` and ``Cov = q12`` these compute

    F   = E[f(g1) g(g2)],
    F1  = dF/dq11 = E[f''(g1) g(g2)] / 2        (Price's theorem),
    F12 = dF/dq12 = E[f'(g1) g'(g2)],

which is all the population functionals V, U of a two-layer net need: with
``q11 = w' S w``, ``q12 = w' S v``, the gradient in ``w`` is
``2 F1 S w + F12 S v``.

Closed forms (docs/design.md section 2):

* ReLU/ReLU: ``F = (sqrt(q11 q22 - q12^2) + q12 (pi - phi)) / (2 pi)`` with
  ``phi = atan2(sqrt(q11 q22 - q12^2), q12)``; ``F1 = sqrt(q11 q22 - q12^2)
  / (4 pi q11)``, ``F12 = (pi - phi) / (2 pi)``.
* erf/erf: ``F = (2/pi) arcsin(2 q12 / sqrt((1 + 2 q11)(1 + 2 q22)))``, computed
  as an ``atan2`` with ``1 + 2 q11 + 2 q22 + 4 (q11 q22 - q12^2)`` under the
  root so that nearly parallel neurons lose no digits.

* Piecewise linear/piecewise linear (ReLU with the ramp, ramp/ramp):
  :func:`pl_pair`, a double sum over kinks of truncated bivariate normal
  moments, with the orthant probabilities of :func:`bvn_upper` (Genz).

Any other pair uses quadrature (:func:`quad_pair`) on ``g1 = sqrt(q11) z1``,
``g2 = rho sqrt(q22) z1 + sqrt(q22 (1 - rho^2)) z2``, with the point masses of
``f''`` at kinks added exactly (normal density times the conditional
expectation), and :func:`quadrature_nodes` builds its nodes.

Scales.  Every kernel works in normalised variables: the norms
``sqrt(q11)``, ``sqrt(q22)``, the correlation ``rho`` and ``1 - rho^2``, the
latter from ``q11 q22 - q12^2`` evaluated exactly (Kahan's FMA algorithm on
the q's scaled by powers of two, :func:`_normalise`), so that no product of
two q's is formed: ``q11 q22`` overflows for norms near 1e77 and underflows
near 1e-82.  The kernels are accurate to about 1e-13 relative, or 1e-13 of
the Cauchy-Schwarz scale ``sqrt(E f(g1)^2 E g(g2)^2)`` where the value itself
cancels (a ReLU pair near antiparallel), for any finite q's with
``q11, q22 <= 1e300`` (norms up to 1e150) and any correlation, parallel and
antiparallel included (``tests/test_kernel_scales.py`` checks this against
mpmath from norms 1e-150 to 1e150).  Quadrature (:func:`quad_pair`) keeps its
own accuracy (about 1e-9, see :func:`quadrature_nodes`) over the same range.
Limits: a q that is not finite (a norm above ~1.3e154 squares to inf) is
refused with a ValueError by the array entry points (:func:`pair_sums`,
:func:`pair_matrix`, :func:`pair_diag`, :func:`gauss_means`); a norm below
~1e-154 squares to a subnormal q, which has lost digits before any kernel
sees it.

Conventions at the non-differentiable point ``w = 0`` of kinked activations
follow ``sigma'(0) = 0`` (as in the SGD kernels): F1 and F12 vanish there.
Exactly repeated neurons (``q12^2 = q11 q22``) are regular points for every
kernel here.

The kernels live in :mod:`.closed_forms`, :mod:`.bvn`, :mod:`.piecewise`,
:mod:`.quadrature` and :mod:`.block_sums`; this module gathers their public names.
"""

from .block_sums import (  # noqa: F401
    erf_block,
    pair_block,
    pair_diag,
    pair_matrix,
    pair_quadratic,
    pair_sums,
    pair_sums_self,
    quadrature_nodes,
    relu_block,
)
from .bvn import _FAR, bvn_upper  # noqa: F401
from .closed_forms import angle, erf_pair, relu_pair  # noqa: F401
from .piecewise import _DELTA0, pl_pair  # noqa: F401
from .quadrature import gauss_mean, gauss_means, pair, quad_pair  # noqa: F401
