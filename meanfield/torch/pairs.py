"""Pair sums of the Gaussian population kernels on a torch device (a GPU when present).

The particle limit of a two-layer net (docs/design.md section 3; Mei, Montanari &
Nguyen 2018 eq. (12)-(13)) spends its time in ``sum_j a_j F(w_i, w_j)`` and its
gradient over all pairs of particles: at M = 10^5 that is 10^10 kernel
evaluations per evaluation of the field, a GPU's job.  :class:`DevicePairSums`
is the device version of :func:`meanfield.kernels.gaussian.pair_sums`, with the
same closed forms and the same contract:

* ReLU/ReLU: the arc-cosine kernel;
* erf/erf: the arcsine kernel;
* any mix of piecewise-linear activations (ReLU, the ramp of Mei et al.):
  a double sum over kink pairs of truncated bivariate normal moments, with the
  orthant probabilities of Genz's algorithm (:func:`orthants`).

Activations that only have quadrature kernels (tanh, sigmoid, softplus) are not
offered; :func:`on_device` refuses a task that needs them.

Scales: as on the host, everything is computed from the norms, the correlation
and ``1 - rho^2`` (from ``q11 q22 - q12^2`` evaluated exactly on the q's scaled by
powers of two, :func:`_normalise`), so norms from 1e-150 to 1e150 lose nothing.
A piecewise-linear neuron whose kinks the closed form cannot take (closer than
the host's ``_DELTA0`` in units of its norm, none within 40 standard
deviations, or one beyond -40: the ramp at norms above 8 or below 1/80) is
summed on the host, by the same numba kernels, like a zero-norm neuron.

:func:`on_device` returns a copy of a :class:`~meanfield.tasks.GaussianTask`
whose pair sums (the risk, V with a teacher, Psi and its gradient) run here;
the rest of the task is unchanged, so :class:`~meanfield.twolayer.limit.ParticleLimit`
and the exact risks use it as they are.  Inputs and outputs are numpy arrays;
the work is float64 on the device, in row blocks of ``block`` pairs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..activations import ERF, NAMES, RAMP, RELU, act_kink, act_n_kinks, act_value
from ..kernels.gaussian import _DELTA0, _FAR
from ..kernels.gaussian import pair_sums as host_pair_sums
from .models import pick_device

_PL = (RELU, RAMP)
_NAMES = {v: k for k, v in NAMES.items()}
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_TWO_PI = 2.0 * math.pi


def _half_rule(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return tuple(zip(x[n // 2:].tolist(), w[n // 2:].tolist()))


# Genz's Gauss-Legendre rules (positive halves): 6 points for |r| < 0.3, 12 below 0.75,
# 20 above; the same choice as the numba kernel, so both agree to round-off.
_RULES = ((0.3, _half_rule(6)), (0.75, _half_rule(12)), (0.925, _half_rule(20)))
_HIGH_RULE = _half_rule(20)


_SPLIT = 134217729.0  # 2^27 + 1, Veltkamp's splitting constant


def _two_prod(a, b):
    """``(p, e)`` with ``p = fl(a b)`` and ``a b = p + e`` exactly (Dekker; no FMA in
    torch, and each op of an eager expression is rounded on its own, so the
    splitting is not folded away).  |a|, |b| well inside the range."""
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _split(q):
    """``(m, S, 1 / S)`` with ``q = m S^2``, S a power of two, m in [0.5, 2) (0, 1, 1 for
    q = 0): the host's ``_split``."""
    m, e = torch.frexp(q)
    odd = (e % 2) != 0
    m = torch.where(odd, 2.0 * m, m)
    e = e - odd.to(e.dtype)
    S = torch.ldexp(torch.ones_like(q), torch.div(e, 2, rounding_mode="floor"))
    pos = q > 0.0
    S = torch.where(pos, S, torch.ones_like(q))
    return torch.where(pos, m, torch.zeros_like(q)), S, 1.0 / S


def _normalise(q11, q22, q12):
    """``(m1, S1, iS1, m2, S2, iS2, c, det)``: the split q's, ``c = q12 / (S1 S2)`` and
    ``det = m1 m2 - c^2`` exact to a few ulp (two exact products; their difference is
    exact where it is small).  q11 q22 overflowed (norms near 1e77) and underflowed
    (1e-82), and ``q11 q22 - q12^2`` lost the angle of nearly parallel neurons: the
    host does the same with FMA (``gaussian._det2``)."""
    m1, S1, iS1 = _split(q11)
    m2, S2, iS2 = _split(q22)
    c = (q12 * iS1) * iS2
    p, e1 = _two_prod(m1, m2)
    w, e2 = _two_prod(c, c)
    det = torch.clamp((p - w) + (e1 - e2), min=0.0)
    return m1, S1, iS1, m2, S2, iS2, c, det


def _sf(x):
    """Standard normal upper tail."""
    return 0.5 * torch.erfc(x * 0.7071067811865476)


def _phi(x):
    return torch.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _bvn_low(h, k, asr, sines):
    """Drezner & Wesolowsky's integral over the correlation, for |r| < 0.925;
    ``asr = asin(r) / 2`` and ``sines`` the ``(weight, sin, 1 - sin^2)`` of the rule's
    nodes, which depend on r alone and are shared by every (h, k) of one r."""
    hk = h * k
    hs = 0.5 * (h * h + k * k)
    acc = torch.zeros_like(h)
    for w, sn, den in sines:
        acc += w * torch.exp((sn * hk - hs) / den)
    return acc * asr / _TWO_PI + _sf(h) * _sf(k)


def _bvn_high(h, k, r, a2):
    """Genz's expansion about |r| = 1 (singular part integrated exactly), |r| >= 0.925."""
    neg = r < 0.0
    k = torch.where(neg, -k, k)
    hk = h * k
    live = a2 > 0.0
    a2s = torch.where(live, a2, torch.ones_like(a2))
    a = torch.sqrt(a2s)
    bs = (h - k) * (h - k)
    c = (4.0 - hk) / 8.0
    d = (12.0 - hk) / 80.0
    asr = -0.5 * (bs / a2s + hk)
    lead = torch.where(asr > -100.0,
                       a * torch.exp(asr) * (1.0 - c * (bs - a2s) * (1.0 - d * bs) / 3.0
                                             + c * d * a2s * a2s), torch.zeros_like(h))
    b = torch.sqrt(bs)
    sing = torch.exp(-0.5 * hk) * _SQRT_2PI * _sf(b / a) * b * (1.0 - c * bs * (1.0 - d * bs) / 3.0)
    lead = lead - torch.where(hk > -100.0, sing, torch.zeros_like(h))
    half = 0.5 * a
    acc = torch.zeros_like(h)
    for x, w in _HIGH_RULE:
        for sgn in (-1.0, 1.0):
            x2 = (half * (1.0 + sgn * x)) ** 2
            e = -0.5 * (bs / x2 + hk)
            rs = torch.sqrt(1.0 - x2)
            ep = torch.exp(-0.5 * hk * x2 / ((1.0 + rs) * (1.0 + rs))) / rs
            term = w * torch.exp(e) * (1.0 + c * x2 * (1.0 + 5.0 * d * x2) - ep)
            acc += torch.where(e > -100.0, term, torch.zeros_like(h))
    bvn = torch.where(live, (half * acc - lead) / _TWO_PI, torch.zeros_like(h))
    # r < 0: k was negated, and P(Z1 > h, Z2 > k) = P(h < Z1 < -k) - (the integral)
    out = torch.where(neg, torch.where(h >= k, -bvn, (_sf(h) - _sf(k)) - bvn),
                      bvn + _sf(torch.maximum(h, k)))
    return out


def orthants(hk, r, a2=None):
    """``P(Z1 > h, Z2 > k)`` for standard normals of correlation ``r``, elementwise, for
    each ``(h, k)`` of the list ``hk``; they share r, so the branch masks and the sines
    of Genz's rule are computed once.

    Genz's algorithm (Statistics and Computing 14, 2004, 251-260), the same
    rules and branches as :func:`meanfield.kernels.gaussian.bvn_upper`; about
    1e-15 absolute.  ``a2 = 1 - r^2``, passed by callers that know it more
    accurately than ``r`` does (nearly parallel neurons).  h and k finite.

    Parameters
    ----------
    hk : list of (torch.Tensor, torch.Tensor)
        Float64 tensors broadcastable with ``r``.
    r, a2 : torch.Tensor

    Returns
    -------
    list of torch.Tensor
        One per entry of ``hk``, of the broadcast shape.
    """
    shape = torch.broadcast_shapes(r.shape, *(t.shape for pair in hk for t in pair))
    r = torch.broadcast_to(r, shape)
    a2 = (1.0 - r) * (1.0 + r) if a2 is None else torch.broadcast_to(a2, shape)
    raw = [(torch.broadcast_to(h, shape), torch.broadcast_to(k, shape)) for h, k in hk]
    # beyond 40 standard deviations a tail is below the smallest double: there the
    # answer is one-dimensional (as on the host), and h k must not overflow below
    hk = [(h.clamp(-_FAR, _FAR), k.clamp(-_FAR, _FAR)) for h, k in raw]
    outs = [torch.empty(shape, dtype=r.dtype, device=r.device) for _ in hk]
    ar = r.abs()
    done = torch.zeros(shape, dtype=torch.bool, device=r.device)
    for top, rule in _RULES:
        m = (ar < top) & ~done
        if m.any():
            asr = 0.5 * torch.asin(r[m])
            sines = []
            for x, w in rule:
                for sgn in (-1.0, 1.0):
                    sn = torch.sin(asr * (1.0 + sgn * x))
                    sines.append((w, sn, 1.0 - sn * sn))
            for (h, k), out in zip(hk, outs):
                out[m] = _bvn_low(h[m], k[m], asr, sines)
        done |= m
    m = ~done
    if m.any():
        for (h, k), out in zip(hk, outs):
            out[m] = _bvn_high(h[m], k[m], r[m], a2[m])
    for (h, k), out in zip(raw, outs):
        far_h, far_k = h.abs() > _FAR, k.abs() > _FAR
        one = torch.where(h < -_FAR, torch.where(k < -_FAR, torch.ones_like(out), _sf(k)), _sf(h))
        out.copy_(torch.where(far_h | far_k,
                              torch.where((h > _FAR) | (k > _FAR), torch.zeros_like(out), one),
                              out))
    return [out.clamp_(0.0, 1.0) for out in outs]


def bvn_upper(h, k, r, a2=None):
    """``P(Z1 > h, Z2 > k)`` for one ``(h, k)``; see :func:`orthants`."""
    return orthants([(h, k)], r, a2)[0]


def _kinks(kind, p):
    """``(sigma(-inf), [(t_k, jump_k)])`` of a piecewise-linear activation."""
    return (float(act_value(kind, p, -1e300)),
            [tuple(float(v) for v in act_kink(kind, p, i)) for i in range(act_n_kinks(kind))])


def _pl_mean(c, kinks, mu, s):
    """``E sigma(mu + s Z)`` for sigma = c + sum_k j_k (u - t_k)_+, elementwise (s >= 0)."""
    pos = s > 0.0
    ss = torch.where(pos, s, torch.ones_like(s))
    v = torch.full_like(mu, c)
    for t, j in kinks:
        z = (mu - t) / ss
        smooth = ss * _phi(z) + (mu - t) * _sf(-z)
        v = v + j * torch.where(pos, smooth, torch.clamp(mu - t, min=0.0))
    return v


def _moments(ab, rho, rr):
    """``(E[(Z1 - a)_+ (Z2 - b)_+], P(Z1 > a, Z2 > b))`` for each ``(a, b)`` of the list
    ``ab`` (see the numba ``_ramp_moment``; ``rr = sqrt(1 - rho^2)``, and ``rr = 0`` gives
    the degenerate forms ``Z2 = +-Z1``)."""
    live = rr > 0.0
    rs = torch.where(live, rr, torch.ones_like(rr))
    a2 = rs * rs
    Ls = orthants(ab, rho, a2)
    up = rho >= 0.0
    # a - rho b through 1 -+ rho = rr^2 / (1 +- rho), consistent with rr for nearly
    # parallel neurons (the numba kernel's comment has the numbers)
    om = torch.where(up, a2 / (1.0 + rho), a2 / (1.0 - rho))
    out = []
    for (a, b), L in zip(ab, Ls):
        sa = torch.where(up, (a - b) + om * b, (a + b) - om * b) / rs
        sb = torch.where(up, (b - a) + om * a, (b + a) - om * a) / rs
        pa, pb = _phi(a), _phi(b)
        h = (rho + a * b) * L - b * pa * _sf(sb) - a * pb * _sf(sa) + rs * pa * _phi(sb)
        if not live.all():
            m, n = torch.maximum(a, b), torch.minimum(a, b)
            h_up = (1.0 + m * n) * _sf(m) - n * _phi(m)
            inside = a < -b
            L_dn = torch.where(inside, _sf(a) - _sf(-b), torch.zeros_like(a))
            h_dn = torch.where(inside, (a * b - 1.0) * L_dn - b * pa - a * pb,
                               torch.zeros_like(a))
            h = torch.where(live, h, torch.where(up, h_up, h_dn))
            L = torch.where(live, L, torch.where(up, _sf(m), L_dn))
        out.append((h, L))
    return out


def relu_kernel(q11, q22, q12):
    """``(F, F1, F12)`` for ReLU/ReLU (see :func:`meanfield.kernels.gaussian.relu_pair`),
    on the split q's of :func:`_normalise`."""
    m1, S1, iS1, m2, S2, _, c, det = _normalise(q11, q22, q12)
    s = torch.sqrt(det)
    pm = math.pi - torch.atan2(s, c)
    f = (s + c * pm) * (S1 * S2) / _TWO_PI
    pos1 = m1 > 0.0
    f1 = torch.where(pos1, s / (4.0 * math.pi * torch.where(pos1, m1, 1.0)) * (S2 * iS1), 0.0)
    f12 = torch.where(pos1 & (m2 > 0.0), pm / _TWO_PI, 0.0)
    return f, f1, f12


def erf_kernel(q11, q22, q12):
    """``(F, F1, F12)`` for erf/erf (see :func:`meanfield.kernels.gaussian.erf_pair`): the
    root and ``2 q12`` divided by ``T = max(1, S1 S2)``, which is never formed."""
    m1, S1, iS1, m2, S2, iS2, c, det = _normalise(q11, q22, q12)
    x1 = torch.minimum(S1, iS2)
    x2 = torch.minimum(S2, iS1)
    g = S1 * x2
    u = iS1 * x1
    r = torch.sqrt(u * u + 2.0 * (m1 * x1 * x1 + m2 * x2 * x2) + 4.0 * det * (g * g))
    cg = c * g
    f = (2.0 / math.pi) * torch.atan2(2.0 * cg.abs(), r) * torch.sign(c)
    f1 = -(4.0 / math.pi) * cg / ((1.0 + 2.0 * q11) * r)
    return f, f1, (4.0 / math.pi) * u / r


def pl_kernel(row, col, q11, q22, q12):
    """``(F, F1, F12)`` for two piecewise-linear activations, both norms positive.

    ``row`` and ``col`` are ``(sigma(-inf), kinks)`` (:func:`_kinks`).  The
    formula of :func:`meanfield.kernels.gaussian.pl_pair`: F is the
    one-dimensional part plus ``sum_kl j_k j_l sqrt(q11 q22) E[(Z1 - a_k)_+ (Z2 - b_l)_+]``,
    ``F12 = sum_kl j_k j_l P(Z1 > a_k, Z2 > b_l)`` and ``F1`` the point masses
    of sigma_r'' times the conditional mean of sigma_c.
    """
    (c_r, kr), (c_c, kc) = row, col
    s1, s2 = torch.sqrt(q11), torch.sqrt(q22)
    m1, _, _, m2, _, _, c, det = _normalise(q11, q22, q12)
    mm = m1 * m2
    rho = torch.clamp(c / torch.sqrt(mm), -1.0, 1.0)
    rr = torch.sqrt(torch.clamp(det / mm, max=1.0))  # from the exact det, as on the host
    zero = torch.zeros(1, dtype=q12.dtype, device=q12.device)
    f = (c_c * _pl_mean(c_r, kr, zero, s1) + c_r * _pl_mean(c_c, kc, zero, s2)
         - c_r * c_c) + torch.zeros_like(q12)
    f1 = torch.zeros_like(q12)
    f12 = torch.zeros_like(q12)
    ms = rho * s2  # E[g2 | g1 = t] = ms t / s1
    sc = s2 * rr
    # kinks beyond 40 standard deviations on the right contribute nothing (the
    # neurons that have one on the left are summed on the host): clamped so that
    # their squares do not overflow
    for t, j in kr:
        a = torch.clamp(t / s1, max=_FAR + 1.0)
        f1 += (j * _phi(a) / s1) * _pl_mean(c_c, kc, ms * a, sc)
    jumps = [j * j2 for _, j in kr for _, j2 in kc]
    ab = [(torch.clamp(t / s1, max=_FAR + 1.0), torch.clamp(u / s2, max=_FAR + 1.0))
          for t, _ in kr for u, _ in kc]
    for jj, (h, L) in zip(jumps, _moments(ab, rho, rr)):
        f += jj * (s1 * s2) * h
        f12 += jj * L
    return f, 0.5 * f1, f12


def _on_host(kind, p, q):
    """Neurons (squared norms q) whose pairs the closed form cannot take: zero norm,
    or, for a piecewise-linear kind, the cases of the host's ``_pl_mode`` other than
    1 (kinks closer than ``_DELTA0`` norms, none within 40 standard deviations, one
    beyond -40)."""
    out = q <= 0.0
    if kind not in _PL:
        return out
    s = np.sqrt(np.where(out, 1.0, q))
    near = np.zeros(q.shape, dtype=bool)
    far_left = np.zeros(q.shape, dtype=bool)
    close = np.zeros(q.shape, dtype=bool)
    prev = None
    for k in range(act_n_kinks(kind)):
        t = float(act_kink(kind, p, k)[0])
        a = t / s
        far_left |= a < -_FAR
        act = np.abs(a) <= _FAR
        near |= act
        if prev is not None:
            close |= act & ((t - prev) / s < _DELTA0)
        prev = t
    return out | ~near | far_left | close


class DevicePairSums:
    """:func:`meanfield.kernels.gaussian.pair_sums` on a torch device.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:K"``.
    block : int, optional
        Pairs per block (rows x columns); the piecewise-linear kernel keeps
        a few dozen float64 temporaries of this size on the device.  Default
        2^22 on the CPU and 2^25 on a GPU (about 15 GB of temporaries there;
        large blocks keep the count of kernel launches per pair low).

    Calling it with the arguments of the host function returns the same
    ``(Fa, F1, G)`` as numpy arrays (``quad`` is not used: every kernel here
    is in closed form).  Pairs in which a piecewise-linear neuron has zero
    norm (their kernel is one-dimensional) or kinks the closed form cannot
    take (:func:`_on_host`) go to the host function.  A squared norm that is not
    finite (a norm above ~1.3e154) raises ValueError, as on the host.
    """

    def __init__(self, device="auto", block=None):
        self.device = pick_device(device)
        if block is None:
            block = 2 ** 25 if self.device.type == "cuda" else 2 ** 22
        if int(block) < 1:
            raise ValueError(f"block must be a positive number of pairs, got {block!r}")
        self.block = int(block)

    def __repr__(self):
        return f"DevicePairSums(device={str(self.device)!r}, block={self.block})"

    @staticmethod
    def supports(kr, kc):
        return (kr in _PL and kc in _PL) or (kr == ERF and kc == ERF)

    def __call__(self, kr, pr, kc, pc, Wr, Wc, ac, quad, grad):
        if not self.supports(kr, kc):
            raise ValueError(f"device pair sums exist for relu/ramp mixes and erf/erf, got "
                             f"{_NAMES.get(kr, kr)}/{_NAMES.get(kc, kc)}")
        Wr = np.ascontiguousarray(Wr, dtype=np.float64)
        Wc = np.ascontiguousarray(Wc, dtype=np.float64)
        ac = np.ascontiguousarray(ac, dtype=np.float64)
        qr, qc = np.einsum("ij,ij->i", Wr, Wr), np.einsum("ij,ij->i", Wc, Wc)
        if not (np.all(np.isfinite(qr)) and np.all(np.isfinite(qc))):
            raise ValueError("pair kernels: a squared norm is not finite (norms above "
                             "~1.3e154 overflow when squared)")
        if kr == kc == RELU or kr == ERF:
            return self._sums(kr, pr, kc, pc, Wr, Wc, ac, grad)
        zr = _on_host(kr, pr, qr)
        zc = _on_host(kc, pc, qc)
        if not (zr.any() or zc.any()):
            return self._sums(kr, pr, kc, pc, Wr, Wc, ac, grad)
        # zero-norm neurons (one-dimensional kernels) and those of _on_host: on the host
        R, d = Wr.shape
        Fa, F1 = np.zeros(R), np.zeros(R)
        G = np.zeros((R, d)) if grad else None
        for rows, cols, on_host in ((zr, slice(None), True), (~zr, zc, True),
                                    (~zr, ~zc, False)):
            if not rows.any():
                continue
            args = (kr, pr, kc, pc, Wr[rows], Wc[cols], ac[cols])
            fa, f1, g = (host_pair_sums(*args, quad, grad) if on_host
                         else self._sums(*args, grad))
            Fa[rows] += fa
            F1[rows] += f1
            if grad:
                G[rows] += g
        return Fa, F1, G

    def _sums(self, kr, pr, kc, pc, Wr, Wc, ac, grad):
        R, d = Wr.shape
        M = Wc.shape[0]
        if R == 0 or M == 0:
            return np.zeros(R), np.zeros(R), (np.zeros((R, d)) if grad else None)
        dev = self.device
        Wr_t = torch.as_tensor(Wr, device=dev)
        Wc_t = torch.as_tensor(Wc, device=dev)
        ac_t = torch.as_tensor(ac, device=dev)
        qr = (Wr_t * Wr_t).sum(1)
        qc = (Wc_t * Wc_t).sum(1)[None, :]
        if kr == kc == RELU:
            kernel = relu_kernel
        elif kr == ERF:
            kernel = erf_kernel
        else:
            row, col = _kinks(kr, pr), _kinks(kc, pc)

            def kernel(q11, q22, q12):
                return pl_kernel(row, col, q11, q22, q12)
        Fa_t = torch.empty(R, dtype=torch.float64, device=dev)
        F1_t = torch.empty_like(Fa_t)
        G_t = torch.empty((R, d), dtype=torch.float64, device=dev) if grad else None
        rows = max(1, min(R, self.block // M))
        for r0 in range(0, R, rows):
            r1 = min(R, r0 + rows)
            Q = Wr_t[r0:r1] @ Wc_t.T
            f, f1, f12 = kernel(qr[r0:r1, None], qc, Q)
            Fa_t[r0:r1] = f @ ac_t
            F1_t[r0:r1] = f1 @ ac_t
            if grad:
                G_t[r0:r1] = (f12 * ac_t) @ Wc_t
        return (Fa_t.cpu().numpy(), F1_t.cpu().numpy(),
                G_t.cpu().numpy() if grad else None)


def on_device(task, device="auto", block=None):
    """A copy of ``task`` whose pair sums run on a torch device.

    Parameters
    ----------
    task : GaussianTask or EmpiricalTask
        A data set's task gets its field sums (Psi, its gradient, V) on the device
        (:class:`meanfield.torch.empirical.DeviceResidualSums`, the data copied there
        once); a Gaussian task its pair sums (:class:`DevicePairSums`).
    device : str or torch.device
        See :class:`DevicePairSums`.
    block : int, optional
        Pairs per device block (see :class:`DevicePairSums`); for a data set, data rows
        per block.

    Raises
    ------
    ValueError
        When the student (or a teacher) activation has no closed-form kernel
        here: supported are ReLU and the ramp in any mix, and erf with erf (a data
        set's task takes every activation).
    """
    from ..tasks import EmpiricalTask

    if isinstance(task, EmpiricalTask):
        from .empirical import DeviceResidualSums

        return task.with_residual_sums(DeviceResidualSums(task.X, task.y, task.activation,
                                                          device, block))
    # the student pairs with itself and, through V, with the teacher
    acts = [task.activation] + ([task.teacher.activation] if task.teacher is not None else [])
    return task.with_pair_sums(device_pair_sums(acts, device, block))


def device_pair_sums(activations, device="auto", block=None):
    """The :class:`DevicePairSums` of a task whose student activation is ``activations[0]``
    and pairs with each of ``activations`` (itself, a teacher's): what :func:`on_device`
    gives the task, checked without the task (building one can be the longer work).

    Raises
    ------
    ValueError
        When a pair has no closed-form kernel here (see :func:`on_device`), or the
        device is not there.
    """
    student = activations[0]
    for other in activations:
        if not DevicePairSums.supports(student.kind, other.kind):
            raise ValueError(f"task: device pair sums exist for relu and ramp (any mix) and "
                             f"erf/erf; this task needs {student.name}/{other.name} "
                             f"(activations {', '.join(map(str, activations))})")
    return DevicePairSums(device, block)
