"""Pair sums of the Gaussian population kernels on a torch device (a GPU when present).

The particle limit of a two-layer net (DESIGN.md section 3; Mei, Montanari &
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
    hk = [(torch.broadcast_to(h, shape), torch.broadcast_to(k, shape)) for h, k in hk]
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
    """``(F, F1, F12)`` for ReLU/ReLU (see :func:`meanfield.kernels.gaussian.relu_pair`)."""
    s = torch.sqrt(torch.clamp(q11 * q22 - q12 * q12, min=0.0))
    pm = math.pi - torch.atan2(s, q12)
    f = (s + q12 * pm) / _TWO_PI
    pos1 = q11 > 0.0
    f1 = torch.where(pos1, s / (4.0 * math.pi * torch.where(pos1, q11, 1.0)), 0.0)
    f12 = torch.where(pos1 & (q22 > 0.0), pm / _TWO_PI, 0.0)
    return f, f1, f12


def erf_kernel(q11, q22, q12):
    """``(F, F1, F12)`` for erf/erf (see :func:`meanfield.kernels.gaussian.erf_pair`)."""
    r = torch.sqrt(1.0 + 2.0 * (q11 + q22) + 4.0 * torch.clamp(q11 * q22 - q12 * q12, min=0.0))
    f = (2.0 / math.pi) * torch.atan2(2.0 * q12.abs(), r) * torch.sign(q12)
    f1 = -(4.0 / math.pi) * q12 / ((1.0 + 2.0 * q11) * r)
    return f, f1, (4.0 / math.pi) / r


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
    det = torch.clamp(q11 * q22 - q12 * q12, min=0.0)
    rho = torch.clamp(q12 / (s1 * s2), -1.0, 1.0)
    rr = torch.sqrt(det / (q11 * q22))
    zero = torch.zeros(1, dtype=q12.dtype, device=q12.device)
    f = (c_c * _pl_mean(c_r, kr, zero, s1) + c_r * _pl_mean(c_c, kc, zero, s2)
         - c_r * c_c) + torch.zeros_like(q12)
    f1 = torch.zeros_like(q12)
    f12 = torch.zeros_like(q12)
    m = q12 / q11
    sc = torch.sqrt(det / q11)
    for t, j in kr:
        f1 += (j * _phi(t / s1) / s1) * _pl_mean(c_c, kc, m * t, sc)
    jumps = [j * j2 for _, j in kr for _, j2 in kc]
    ab = [(t / s1, u / s2) for t, _ in kr for u, _ in kc]
    for jj, (h, L) in zip(jumps, _moments(ab, rho, rr)):
        f += jj * (s1 * s2) * h
        f12 += jj * L
    return f, 0.5 * f1, f12


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
    norm (their kernel is one-dimensional) go to the host function.
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
        if kr == kc == RELU or kr == ERF:
            return self._sums(kr, pr, kc, pc, Wr, Wc, ac, grad)
        zr = np.einsum("ij,ij->i", Wr, Wr) <= 0.0
        zc = np.einsum("ij,ij->i", Wc, Wc) <= 0.0
        if not (zr.any() or zc.any()):
            return self._sums(kr, pr, kc, pc, Wr, Wc, ac, grad)
        # zero-norm neurons: one-dimensional kernels, few of them, on the host
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
    task : GaussianTask
    device : str or torch.device
        See :class:`DevicePairSums`.
    block : int, optional
        Pairs per device block (see :class:`DevicePairSums`).

    Raises
    ------
    ValueError
        When the student (or a teacher) activation has no closed-form kernel
        here: supported are ReLU and the ramp in any mix, and erf with erf.
    """
    # the student pairs with itself and, through V, with the teacher
    acts = [task.activation] + ([task.teacher.activation] if task.teacher is not None else [])
    for other in acts:
        if not DevicePairSums.supports(task.activation.kind, other.kind):
            raise ValueError(f"task: device pair sums exist for relu and ramp (any mix) and "
                             f"erf/erf; this task needs {task.activation.name}/{other.name} "
                             f"(activations {', '.join(map(str, acts))})")
    return task.with_pair_sums(DevicePairSums(device, block))
