"""
SGD against its mean-field limit
================================

One-pass SGD with N neurons in mean-field scaling (Shevchenko & Mondelli,
ICML 2020, eq. 3.3, step ``alpha``) next to the nonlinear limit dynamics
(Mei, Montanari & Nguyen, PNAS 2018, eqs. 12-13), integrated with RK4 on a
reference population of M particles.  Each SGD neuron is coupled to the ideal
particle started from the same initial weights; the distance between the two
and the risk gap ``|L_N(theta^k) - R(rho_t)|`` shrink like ``1/sqrt(N)``
(Mei, Misiakiewicz & Montanari, COLT 2019, Theorem 1).
"""

import os

import matplotlib.pyplot as plt

from meanfield.tasks import teacher_student
from meanfield.twolayer import run_coupled

SMALL = os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0")
N = 100 if SMALL else 400
T = 1.0 if SMALL else 2.0

# %%
# A ReLU teacher-student task with exact population risk, then SGD with
# N neurons and step ``alpha = 1/N`` coupled to its ideal particles.

task = teacher_student(d=20, activation="relu", width=4)
res = run_coupled(task, N=N, alpha=1.0 / N, T=T, M=2 * N, n_snapshots=11, seed=0,
                  w2="none", progress=False)
print(res.to_frame().round(4))

# %%
# The two risks against time, and the largest and mean distance between an
# SGD neuron and its coupled particle.

fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.5))
ax.plot(res.times, res.sgd.risk, "o-", label=f"SGD, N = {N}")
ax.plot(res.times, res.limit.risk, "s--", label="limit R(rho_t)")
ax.set_xlabel("t = k alpha")
ax.set_ylabel("population risk")
ax.legend()
bx.plot(res.times, res.max_dist, "o-", label="max_i |theta_i - thetabar_i|")
bx.plot(res.times, res.mean_dist, "s-", label="mean_i |theta_i - thetabar_i|")
bx.set_xlabel("t")
bx.legend()
fig.tight_layout()
