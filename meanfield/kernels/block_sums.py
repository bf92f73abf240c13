"""Blocked, parallel sums of pair kernels over neuron pairs: the array entry points
(:func:`pair_sums`, :func:`pair_matrix`, :func:`pair_diag`) that check their inputs."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..activations import ERF, RELU, act_n_kinks
from .closed_forms import _INV_2PI, _det2, _erf_scaled, angle
from .piecewise import (
    _SER_L,
    _SER_RHO,
    pl_series_col,
    pl_series_ok,
    pl_series_row,
    pl_series_sum,
)
from .quadrature import _refuse_nonfinite, pair


@njit(cache=True, parallel=True, fastmath=True)
def relu_block(Q, mr, Sr, iSr, mc, iSc, wc, ac, Fa, F1, grad):
    """ReLU row sums on split norms (``q = m S^2``, :func:`_split`; ``iS = 1 / S``,
    ``wc = ac Sc``): the arithmetic of :func:`relu_pair`, with the powers of two of
    the rows and columns taken out of the sums."""
    R, M = Q.shape
    for i in prange(R):
        m1 = mr[i]
        is1 = iSr[i]
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            c = (Q[i, j] * is1) * iSc[j]
            s = math.sqrt(max(_det2(m1, mc[j], c), 0.0))
            pm = math.pi - angle(s, c)
            fa += wc[j] * (s + c * pm)
            f1 += wc[j] * s
            if grad:
                Q[i, j] = ac[j] * pm * _INV_2PI if mc[j] > 0.0 else 0.0
        Fa[i] = fa * Sr[i] * _INV_2PI
        if m1 > 0.0:
            F1[i] = f1 * is1 / (4.0 * math.pi * m1)
        else:
            F1[i] = 0.0
            if grad:
                for j in range(M):
                    Q[i, j] = 0.0


@njit(cache=True, parallel=True, fastmath=True)
def erf_block(Q, mr, Sr, iSr, qr, mc, Sc, iSc, ac, Fa, F1, grad):
    """erf row sums on split norms: the arithmetic of :func:`erf_pair`."""
    R, M = Q.shape
    for i in prange(R):
        m1 = mr[i]
        S1 = Sr[i]
        is1 = iSr[i]
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            c = (Q[i, j] * is1) * iSc[j]
            ang, cg, u, r = _erf_scaled(m1, S1, is1, mc[j], Sc[j], iSc[j], c)
            f = (2.0 / math.pi) * ang
            fa += ac[j] * (-f if c < 0.0 else f)
            f1 += ac[j] * cg / r
            if grad:
                Q[i, j] = ac[j] * (4.0 / math.pi) * u / r
        Fa[i] = fa
        F1[i] = -(4.0 / math.pi) * f1 / (1.0 + 2.0 * qr[i])


@njit(cache=True, inline="always")
def _zigzag(k, R):
    """Rows 0, R - 1, 1, R - 2, ... of a block: on the upper triangle row i sums
    M - 1 - i columns, so each thread's contiguous share of k mixes long rows and
    short ones (a share of consecutive rows gave the first thread the longest)."""
    return k // 2 if k % 2 == 0 else R - 1 - k // 2


@njit(cache=True, parallel=True, fastmath=True)
def relu_upper(Q, mr, Sr, iSr, mc, iSc, wc, Fa, Dg):
    """:func:`relu_block`'s ``Fa`` on the upper triangle of a symmetric sum: row i
    of the block is neuron r0 + i, column j neuron r0 + j; ``Fa[i]`` sums the
    columns j > i and ``Dg[i]`` is the diagonal's term (``wc = ac Sc`` as there)."""
    R, M = Q.shape
    for k in prange(R):
        i = _zigzag(k, R)
        m1 = mr[i]
        is1 = iSr[i]
        fa = 0.0
        for j in range(i + 1, M):
            c = (Q[i, j] * is1) * iSc[j]
            s = math.sqrt(max(_det2(m1, mc[j], c), 0.0))
            fa += wc[j] * (s + c * (math.pi - angle(s, c)))
        c = (Q[i, i] * is1) * iSc[i]
        s = math.sqrt(max(_det2(m1, mc[i], c), 0.0))
        Dg[i] = wc[i] * (s + c * (math.pi - angle(s, c))) * Sr[i] * _INV_2PI
        Fa[i] = fa * Sr[i] * _INV_2PI


@njit(cache=True, parallel=True, fastmath=True)
def erf_upper(Q, mr, Sr, iSr, mc, Sc, iSc, ac, Fa, Dg):
    """:func:`erf_block`'s ``Fa`` on the upper triangle of a symmetric sum, laid out
    as in :func:`relu_upper`."""
    R, M = Q.shape
    for k in prange(R):
        i = _zigzag(k, R)
        m1 = mr[i]
        S1 = Sr[i]
        is1 = iSr[i]
        fa = 0.0
        for j in range(i + 1, M):
            c = (Q[i, j] * is1) * iSc[j]
            f = (2.0 / math.pi) * _erf_scaled(m1, S1, is1, mc[j], Sc[j], iSc[j], c)[0]
            fa += ac[j] * (-f if c < 0.0 else f)
        c = (Q[i, i] * is1) * iSc[i]
        f = (2.0 / math.pi) * _erf_scaled(m1, S1, is1, mc[i], Sc[i], iSc[i], c)[0]
        Dg[i] = ac[i] * (-f if c < 0.0 else f)
        Fa[i] = fa


@njit(cache=True, parallel=True)
def pair_block(kr, pr, kc, pc, Q, qr, qc, ac, quad, Fa, F1, grad):
    """The pairs without a vectorised block of their own, through :func:`pair`."""
    R, M = Q.shape
    for i in prange(R):
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            f, d1, d12 = pair(kr, pr, kc, pc, qr[i], qc[j], Q[i, j], quad)
            fa += ac[j] * f
            f1 += ac[j] * d1
            if grad:
                Q[i, j] = ac[j] * d12
        Fa[i] = fa
        F1[i] = f1


@njit(cache=True, parallel=True)
def pl_columns(kind, p, q):
    """Per column of a piecewise-linear pair sum: ``(ok, 1 / sqrt(q), d)``, d the
    coefficients of Mehler's series (:func:`pl_series_col`) where ``ok``
    (:func:`pl_series_ok`)."""
    M = q.size
    ok = np.zeros(M, dtype=np.bool_)
    isq = np.zeros(M)
    d = np.zeros((M, _SER_L))
    for j in prange(M):
        if pl_series_ok(kind, p, q[j]):
            ok[j] = True
            isq[j] = 1.0 / math.sqrt(q[j])
            pl_series_col(kind, p, q[j], d[j])
    return ok, isq, d


@njit(cache=True, parallel=True)
def pl_block(kr, pr, kc, pc, Q, qr, qc, okc, isc, D, ac, quad, Fa, F1, grad):
    """Piecewise-linear pairs (ReLU with the ramp, ramp/ramp): Mehler's series
    (:func:`pl_series_sum`) where both neurons allow it (:func:`pl_series_ok`) and
    ``|rho| <= _SER_RHO``, :func:`pair` (the closed form) otherwise."""
    R, M = Q.shape
    for i in prange(R):
        a0 = np.empty(_SER_L)
        a12 = np.empty(_SER_L)
        a1 = np.empty(_SER_L)
        okr = pl_series_ok(kr, pr, qr[i])
        isr = 0.0
        if okr:
            pl_series_row(kr, pr, qr[i], a0, a12, a1)
            isr = 1.0 / math.sqrt(qr[i])
        fa = 0.0
        f1 = 0.0
        for j in range(M):
            rho = (Q[i, j] * isr) * isc[j]
            if okr and okc[j] and abs(rho) <= _SER_RHO:
                f, d1, d12 = pl_series_sum(a0, a12, a1, D[j], rho, isc[j])
            else:
                f, d1, d12 = pair(kr, pr, kc, pc, qr[i], qc[j], Q[i, j], quad)
            fa += ac[j] * f
            f1 += ac[j] * d1
            if grad:
                Q[i, j] = ac[j] * d12
        Fa[i] = fa
        F1[i] = f1


@njit(cache=True, parallel=True)
def pair_matrix(kr, pr, kc, pc, Q, qr, qc, quad, F, F1, F12):
    """Full matrices of F, F1, F12 (for U, grad_1 U and tests).  Raises ValueError for a
    q that is not finite."""
    _refuse_nonfinite(qr)
    _refuse_nonfinite(qc)
    R, M = Q.shape
    for i in prange(R):
        for j in range(M):
            F[i, j], F1[i, j], F12[i, j] = pair(kr, pr, kc, pc, qr[i], qc[j], Q[i, j], quad)


@njit(cache=True, parallel=True)
def pair_diag(kind, p, q, quad, F):
    """``F[i] = E[sigma(g)^2]``, g ~ N(0, q[i]): the kernel of a neuron with itself.
    Raises ValueError for a q that is not finite."""
    _refuse_nonfinite(q)
    for i in prange(q.size):
        F[i] = pair(kind, p, kind, p, q[i], q[i], q[i], quad)[0]


def quadrature_nodes(n, n_piece=None):
    """Nodes for :func:`quad_pair`: a ``(2, n)`` array of probabilists'
    Hermite nodes and weights (summing to 1) and a ``(2, n_piece)`` array of
    Gauss-Legendre nodes and weights on [-1, 1] used on each piece of a cut
    axis (default ``n_piece = max(8, n // 2)``; at n = 48 the worst pair
    found, ReLU x tanh with a tail piece [2.4, 10], was off by 1.8e-6 with
    16 nodes per piece, 2e-8 with 24, 5e-12 with 32)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    zl, wl = np.polynomial.legendre.leggauss(max(8, n // 2) if n_piece is None else n_piece)
    return (np.ascontiguousarray(np.stack([z, w / w.sum()])),
            np.ascontiguousarray(np.stack([zl, wl])))


def _split_array(q):
    """:func:`_split` on an array: ``(m, S, 1 / S)``."""
    m, e = np.frexp(q)
    odd = (e % 2).astype(bool)
    m = np.where(odd, 2.0 * m, m)
    S = np.ldexp(1.0, (e - odd) // 2)
    S = np.where(q > 0.0, S, 1.0)
    return np.where(q > 0.0, m, 0.0), S, 1.0 / S


def _check_q(q, what):
    if not np.all(np.isfinite(q)):
        raise ValueError(f"pair kernels: a squared norm of the {what} is not finite "
                         f"(norms above ~1.3e154 overflow when squared)")


def pair_quadratic(kind, W, a, block_bytes=2 ** 24):
    """``sum_ij a_i a_j F(w_i, w_j)`` for ReLU or erf (the quadratic term of the
    risk, Shevchenko & Mondelli eq. (3.2)), each pair once.

    F is symmetric, and bit for bit so on split norms (:func:`_erf_scaled` and
    :func:`relu_pair` see the two neurons through commuting operations and
    exact powers of two), so the sum is ``sum_i a_i (a_i F_ii + 2 sum_{j > i}
    a_j F_ij)``: half the kernels and half the Gram of :func:`pair_sums`'s
    ``a @ Fa``, equal to it up to the order of the additions.  Row i's sum
    runs over j in order, whatever the threads; one GEMM ``W[r0:r1] W[r0:]'``
    per block of rows keeps the Gram buffer ~16 MB.
    """
    if kind not in (RELU, ERF):
        raise ValueError(f"pair_quadratic: ReLU or erf, got activation code {kind}")
    N = W.shape[0]
    if N == 0:
        return 0.0
    q = np.einsum("ij,ij->i", W, W)
    _check_q(q, "rows")
    m, S, iS = _split_array(q)
    Fa = np.empty(N)
    Dg = np.empty(N)
    rows = int(max(1, min(N, block_bytes // (8 * N))))
    buf = np.empty(rows * N)
    wc = a * S
    for r0 in range(0, N, rows):
        r1 = min(N, r0 + rows)
        Qb = buf[: (r1 - r0) * (N - r0)].reshape(r1 - r0, N - r0)
        np.matmul(W[r0:r1], W[r0:].T, out=Qb)
        if kind == RELU:
            relu_upper(Qb, m[r0:r1], S[r0:r1], iS[r0:r1], m[r0:], iS[r0:], wc[r0:],
                       Fa[r0:r1], Dg[r0:r1])
        else:
            erf_upper(Qb, m[r0:r1], S[r0:r1], iS[r0:r1], m[r0:], S[r0:], iS[r0:], a[r0:],
                      Fa[r0:r1], Dg[r0:r1])
    return float(a @ (Dg + 2.0 * Fa))


#: Row groups of a block in :func:`relu_self` and :func:`erf_self`: each keeps column
#: sums of its own, added in group order, so the sums do not depend on the threads.
SELF_GROUPS = 16


@njit(cache=True, parallel=True, fastmath=True)
def relu_self(Q, m, iS, wc, T, U, TC, UC, D, grad):
    """A population with itself, ReLU: block row i is neuron r0 + i and column j
    neuron r0 + j (so row i's diagonal is column i).  Over j > i, the symmetric
    elements ``e1 = s + c (pi - phi)`` and ``e2 = s`` of :func:`relu_block` give
    row i's sums ``T[i] = sum_j wc_j e1``, ``U[i] = sum_j wc_j e2`` and column j's
    ``TC[g, j] += wc_i e1``, ``UC[g, j] += wc_i e2`` (g: row i's group, one
    thread's rows, taken in order); with ``grad`` ``Q[i, j] = (pi - phi) / (2
    pi)`` (0 where either norm is 0) and ``Q[i, j] = 0`` for j <= i.  ``D[i]``
    holds the diagonal's three elements, taken at ``q12 = q11`` exactly
    (through the Gram's rounding of q11, the root of the determinant behind F1
    came out of order sqrt(ulp) instead of 0).

    Row i's loop runs over slices that start at column i + 1: written as
    ``range(i + 1, C)`` on the whole rows, LLVM did not vectorise it (2.5x
    slower per pair)."""
    R, C = Q.shape
    ng = TC.shape[0]
    for g in prange(ng):
        TC[g] = 0.0
        UC[g] = 0.0
        for k in range(g * R // ng, (g + 1) * R // ng):
            i = _zigzag(k, R)
            m1 = m[i]
            is1 = iS[i]
            wi = wc[i]
            Qi, tc, uc = Q[i, i + 1:], TC[g, i + 1:], UC[g, i + 1:]
            mj, iSj, wj = m[i + 1:], iS[i + 1:], wc[i + 1:]
            t = 0.0
            u = 0.0
            for j in range(C - i - 1):
                c = (Qi[j] * is1) * iSj[j]
                s = math.sqrt(max(_det2(m1, mj[j], c), 0.0))
                pm = math.pi - angle(s, c)
                e1 = s + c * pm
                t += wj[j] * e1
                u += wj[j] * s
                tc[j] += wi * e1
                uc[j] += wi * s
                if grad:
                    Qi[j] = pm * _INV_2PI if (m1 > 0.0 and mj[j] > 0.0) else 0.0
            c = m1  # a neuron with itself: q12 = q11 exactly, not the Gram's rounding of it
            s = math.sqrt(max(_det2(m1, m1, c), 0.0))
            pm = math.pi - angle(s, c)
            D[i, 0] = s + c * pm
            D[i, 1] = s
            D[i, 2] = pm * _INV_2PI if m1 > 0.0 else 0.0
            Q[i, : i + 1] = 0.0
            T[i] += t
            U[i] += u


@njit(cache=True, parallel=True, fastmath=True)
def erf_self(Q, m, S, iS, a, T, U, TC, UC, D, grad):
    """:func:`relu_self` for erf: ``e1 = F``, ``e2 = c g / r`` and ``Q = F12`` of
    :func:`erf_block` without the column's ``a_j``."""
    R, C = Q.shape
    ng = TC.shape[0]
    for g in prange(ng):
        TC[g] = 0.0
        UC[g] = 0.0
        for k in range(g * R // ng, (g + 1) * R // ng):
            i = _zigzag(k, R)
            m1 = m[i]
            S1 = S[i]
            is1 = iS[i]
            ai = a[i]
            Qi, tc, uc = Q[i, i + 1:], TC[g, i + 1:], UC[g, i + 1:]
            mj, Sj, iSj, aj = m[i + 1:], S[i + 1:], iS[i + 1:], a[i + 1:]
            t = 0.0
            u = 0.0
            for j in range(C - i - 1):
                c = (Qi[j] * is1) * iSj[j]
                ang, cg, uu, r = _erf_scaled(m1, S1, is1, mj[j], Sj[j], iSj[j], c)
                f = (2.0 / math.pi) * ang
                f = -f if c < 0.0 else f
                e2 = cg / r
                t += aj[j] * f
                u += aj[j] * e2
                tc[j] += ai * f
                uc[j] += ai * e2
                if grad:
                    Qi[j] = (4.0 / math.pi) * uu / r
            c = m1  # a neuron with itself: q12 = q11 exactly, not the Gram's rounding of it
            ang, cg, uu, r = _erf_scaled(m1, S1, is1, m1, S1, is1, c)
            f = (2.0 / math.pi) * ang
            D[i, 0] = -f if c < 0.0 else f
            D[i, 1] = cg / r
            D[i, 2] = (4.0 / math.pi) * uu / r
            Q[i, : i + 1] = 0.0
            T[i] += t
            U[i] += u


@njit(cache=True)
def _add_groups(TC, UC, T, U):
    """``T += TC[0] + TC[1] + ...`` in group order, and the same for U."""
    for g in range(TC.shape[0]):
        for j in range(T.size):
            T[j] += TC[g, j]
            U[j] += UC[g, j]


def pair_sums_self(kind, W, a, grad, block_bytes=2 ** 24):
    """:func:`pair_sums` of a population with itself, ``Wr = Wc = W`` and ``ac = a``,
    for ReLU or erf: each pair's kernel once.

    Every element the sums need is symmetric in the pair (the value F, the
    determinant's root or ``c g / r`` behind F1, and F12), so the upper triangle
    gives row i's terms and, read down its columns, row j's: half the kernels
    and half the Gram.  The gradient is ``P (a W) + P' (a W)`` over the strict
    triangle plus the diagonal, ``P`` the block's F12.  Fa equals
    :func:`pair_sums`'s up to the order of the additions (and the Gram's
    rounding by block shape).  A neuron with itself is taken at ``q12 = q11``
    exactly, where pair_sums reads q12 from the Gram: for ReLU its root of the
    determinant, 0 here, is of order sqrt(ulp) there when the Gram rounds q11
    down, so F1 and G alone differ from pair_sums's by about 1e-9 relative,
    while the gradient ``2 F1 w_i + G`` they make agrees to rounding (the two
    diagonal terms cancel to first order).  Whatever the threads, the same bits:
    each row's sum runs in order, and each column's in SELF_GROUPS fixed groups
    of rows added in group order (so at most SELF_GROUPS threads share a
    block).  The particle limit's field evaluates the
    reference population against itself at every stage (Mei, Montanari &
    Nguyen, PNAS 2018, eq. (13): the integral of U over rho_t).
    """
    if kind not in (RELU, ERF):
        raise ValueError(f"pair_sums_self: ReLU or erf, got activation code {kind}")
    N, d = W.shape
    q = np.einsum("ij,ij->i", W, W)
    _check_q(q, "rows")
    T = np.zeros(N)
    U = np.zeros(N)
    G = np.zeros((N, d)) if grad else None
    if N == 0:
        return T, U, G
    m, S, iS = _split_array(q)
    wc = a * S if kind == RELU else a
    aW = a[:, None] * W if grad else None
    D = np.empty((N, 3))
    rows = int(max(1, min(N, block_bytes // (8 * N))))
    buf = np.empty(rows * N)
    cbuf = np.empty((2, min(SELF_GROUPS, rows) * N))
    for r0 in range(0, N, rows):
        r1 = min(N, r0 + rows)
        R, C = r1 - r0, N - r0
        Qb = buf[: R * C].reshape(R, C)
        ng = min(SELF_GROUPS, R)
        tc, uc = (b[: ng * C].reshape(ng, C) for b in cbuf)
        np.matmul(W[r0:r1], W[r0:].T, out=Qb)
        if kind == RELU:
            relu_self(Qb, m[r0:], iS[r0:], wc[r0:], T[r0:r1], U[r0:r1], tc, uc, D[r0:r1], grad)
        else:
            erf_self(Qb, m[r0:], S[r0:], iS[r0:], a[r0:], T[r0:r1], U[r0:r1], tc, uc, D[r0:r1],
                     grad)
        _add_groups(tc, uc, T[r0:], U[r0:])
        if grad:
            G[r0:r1] += Qb @ aW[r0:]
            G[r0:] += Qb.T @ aW[r0:r1]
    T += wc * D[:, 0]
    U += wc * D[:, 1]
    if grad:
        G += (D[:, 2] * a)[:, None] * W
    if kind == RELU:
        Fa = T * S * _INV_2PI
        with np.errstate(divide="ignore", invalid="ignore"):
            F1 = np.where(m > 0.0, U * iS / (4.0 * math.pi * np.where(m > 0.0, m, 1.0)), 0.0)
    else:
        Fa = T
        F1 = -(4.0 / math.pi) * U / (1.0 + 2.0 * q)
    return Fa, F1, G


def pair_sums(kr, pr, kc, pc, Wr, Wc, ac, quad, grad, block_bytes=2 ** 24, series=True):
    """Row sums of the pair kernel between the rows of ``Wr`` and ``Wc``.

    Returns ``Fa[i] = sum_j ac[j] F_ij``, ``F1[i] = sum_j ac[j] F1_ij`` and,
    when ``grad``, ``G[i] = sum_j ac[j] F12_ij Wc[j]`` (else None).  Works in
    row blocks so that the Gram buffer stays ~16 MB whatever the sizes: two
    GEMMs per block plus one elementwise pass.  ``series=False`` takes the
    closed form for every piecewise-linear pair (the reference that Mehler's
    series, :func:`pl_block`, is checked and timed against).
    """
    R, d = Wr.shape
    M = Wc.shape[0]
    qr = np.einsum("ij,ij->i", Wr, Wr)
    qc = np.einsum("ij,ij->i", Wc, Wc)
    _check_q(qr, "rows")
    _check_q(qc, "columns")
    Fa = np.empty(R)
    F1 = np.empty(R)
    G = np.empty((R, d)) if grad else None
    if R == 0 or M == 0:
        Fa[:] = 0.0
        F1[:] = 0.0
        if grad:
            G[:] = 0.0
        return Fa, F1, G
    if kr == kc and kr in (RELU, ERF):
        mr, Sr, iSr = _split_array(qr)
        mc, Sc, iSc = _split_array(qc)
    series = (series and act_n_kinks(kr) > 0 and act_n_kinks(kc) > 0
              and not (kr == RELU and kc == RELU))
    if series:
        okc, isc, D = pl_columns(kc, pc, qc)
    rows = int(max(1, min(R, block_bytes // (8 * M))))
    buf = np.empty((rows, M))
    for r0 in range(0, R, rows):
        r1 = min(R, r0 + rows)
        Qb = buf[: r1 - r0]
        np.matmul(Wr[r0:r1], Wc.T, out=Qb)
        if kr == RELU and kc == RELU:
            relu_block(Qb, mr[r0:r1], Sr[r0:r1], iSr[r0:r1], mc, iSc, ac * Sc, ac,
                       Fa[r0:r1], F1[r0:r1], grad)
        elif kr == ERF and kc == ERF:
            erf_block(Qb, mr[r0:r1], Sr[r0:r1], iSr[r0:r1], qr[r0:r1], mc, Sc, iSc, ac,
                      Fa[r0:r1], F1[r0:r1], grad)
        elif series:
            pl_block(kr, pr, kc, pc, Qb, qr[r0:r1], qc, okc, isc, D, ac, quad, Fa[r0:r1],
                     F1[r0:r1], grad)
        else:
            pair_block(kr, pr, kc, pc, Qb, qr[r0:r1], qc, ac, quad, Fa[r0:r1], F1[r0:r1], grad)
        if grad:
            np.matmul(Qb, Wc, out=G[r0:r1])
    return Fa, F1, G
