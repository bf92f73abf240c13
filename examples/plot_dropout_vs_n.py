"""
Dropout stability against N
===========================

``eps_D = |L_N(theta) - L_|A|(theta_A)|`` (Shevchenko & Mondelli, ICML 2020,
Definition 3.1) for SGD solutions at several widths N, with half of the
neurons dropped.  Theorem 1(A) bounds it by ``O(1/sqrt(N))`` plus a term in
the step size; the population risks are exact, so every point is a number,
not an estimate.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from meanfield.analysis import loglog_fit
from meanfield.dropout import draw_keep
from meanfield.tasks import teacher_student
from meanfield.twolayer import InitialLaw, dropout_gap, run_sgd

SMALL = os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0")
Ns = [50, 100, 200] if SMALL else [50, 100, 200, 400, 800]
seeds = range(2 if SMALL else 4)
T = 0.5 if SMALL else 1.0

task = teacher_student(d=20, activation="relu", width=4)

# %%
# For each N and seed: train with step ``1/N`` to time T, then drop a random
# half of the neurons several times.

rows = []
for N in Ns:
    for seed in seeds:
        rng = np.random.default_rng(seed)
        a0, W0 = InitialLaw().sample(N, task.d, rng)
        traj = run_sgd(task, a0, W0, 1.0 / N, [T], rng=seed, progress=False)
        a, W = traj.a[-1], traj.W[-1]
        for A in draw_keep(N, N // 2, rng, n_draws=3):
            rows.append((N, dropout_gap(task, a, W, A)))
N_arr, eps = np.array(rows).T
fit = loglog_fit(N_arr, eps, n_boot=200)
print(f"slope {fit.slope:.2f}  (the bound: -1/2)")

# %%
# On log-log axes, with the fitted rate.

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(N_arr, eps, "o", alpha=0.5, label="eps_D, |A| = N/2")
grid = np.array([min(Ns), max(Ns)], dtype=float)
ax.loglog(grid, fit.predict(grid), "k-",
          label=f"fit: slope {fit.slope:.2f}")
ax.set_xlabel("N")
ax.set_ylabel("eps_D")
ax.legend()
fig.tight_layout()
