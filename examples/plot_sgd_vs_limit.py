r"""
SGD against its mean-field limit
================================

One-pass SGD with :math:`N` neurons in mean-field scaling (Shevchenko &
Mondelli, ICML 2020, eq. (3.3), step :math:`\alpha = 1/N`) next to the
nonlinear limit dynamics (Mei, Montanari & Nguyen, PNAS 2018, eqs.
(12)-(13)), integrated with RK4 on a reference population of :math:`M`
particles.  Each SGD neuron is coupled to the ideal particle started from the
same initial weights.  By Mei, Misiakiewicz & Montanari (COLT 2019, Theorem
1) the largest distance between the two and the risk gap
:math:`\lvert L_N(\theta^k) - R(\rho_t)\rvert` are
:math:`O\big(N^{-1/2} + \sqrt{\alpha\,(D + \log N)}\big)`: with
:math:`\alpha = 1/N`, of order :math:`N^{-1/2}` up to logarithms.  The
example runs several :math:`N` to show it.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from meanfield.tasks import teacher_student
from meanfield.twolayer import run_coupled

Ns = [100, 200, 400, 800]
T = 2.0
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0"):
    Ns, T = [50, 100, 200], 1.0  # the test suite's sizes
# sphinx_gallery_end_ignore

# %%
# A ReLU teacher-student task with exact population risk, then, for each
# :math:`N`, SGD with step :math:`\alpha = 1/N` coupled to its ideal
# particles (the reference population has :math:`M = 2N` particles).

task = teacher_student(d=20, activation="relu", width=4)
runs = {N: run_coupled(task, N=N, alpha=1.0 / N, T=T, M=2 * N, n_snapshots=11, seed=0,
                       w2="none", progress=False)
        for N in Ns}
largest = runs[Ns[-1]]
print(largest.to_frame().drop(columns="w2").round(4))   # W2 skipped here: w2="none"

# %%
# Left: the two risks against time at the largest :math:`N`.  Right: the
# suprema over :math:`[0, T]` of the largest distance and of the risk gap
# against :math:`N`, with the slope :math:`-1/2` for reference.

sup_dist = np.array([runs[N].max_dist.max() for N in Ns])
sup_gap = np.array([runs[N].risk_gap.max() for N in Ns])

fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.6))
ax.plot(largest.times, largest.sgd.risk, "o-", ms=3, label=f"SGD $L_N$, N = {Ns[-1]}")
ax.plot(largest.times, largest.limit.risk, "s--", ms=3, label=r"limit $R(\rho_t)$")
ax.set_xlabel(r"$t = k\alpha$")
ax.set_ylabel("population risk")
ax.legend(fontsize=8)
bx.loglog(Ns, sup_dist, "o-", label=r"$\sup_t \max_i |\theta_i - \bar\theta_i|$")
bx.loglog(Ns, sup_gap, "s-", label=r"$\sup_t |L_N - R(\rho_t)|$")
ref = sup_dist[0] * (np.array(Ns) / Ns[0]) ** -0.5
bx.loglog(Ns, ref, "k:", label=r"slope $-1/2$")
bx.set_xticks(Ns)
bx.xaxis.set_major_formatter(ScalarFormatter())
bx.xaxis.set_minor_formatter(NullFormatter())
bx.set_xlabel("N")
bx.set_ylabel(r"supremum over $t \leq T$")
bx.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
fig.tight_layout()
