r"""
Dropout stability against N
===========================

The dropout stability
:math:`\varepsilon_D = \lvert L_N(\theta) - L_{\lvert A\rvert}(\theta_A)\rvert`
(Shevchenko & Mondelli, ICML 2020, Definition 3.1) of SGD solutions at
several widths :math:`N`, with half of the neurons dropped.  Theorem 1(A)
bounds it by :math:`O(N^{-1/2})` up to logarithms plus a term in the step
size; the population risks are exact, so every point is a number, not an
estimate.
"""

import numpy as np

from meanfield.analysis import loglog_fit
from meanfield.dropout import draw_keep
from meanfield.plotting import rate_plot
from meanfield.tasks import teacher_student
from meanfield.twolayer import InitialLaw, TwoLayerNet, dropout_gap, run_sgd

Ns = [50, 100, 200, 400, 800]
seeds = range(4)
T = 1.0
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0"):
    Ns, seeds, T = [50, 100, 200], range(2), 0.5  # the test suite's sizes
# sphinx_gallery_end_ignore

task = teacher_student(d=20, activation="relu", width=4)

# %%
# For each N and seed: train with step ``1/N`` to time T, then drop a random
# half of the neurons several times.

rows = []
for N in Ns:
    for seed in seeds:
        rng = np.random.default_rng(seed)
        a0, W0 = InitialLaw().sample(N, task.d, rng)
        traj = run_sgd((a0, W0), task, 1.0 / N, [T], rng=seed, progress=False)
        a, W = traj.a[-1], traj.W[-1]
        # three draws of A on one net are not three independent runs: their mean
        # is one value per net, and the fit resamples nets within each N
        net = TwoLayerNet(task, a, W)
        gaps = [dropout_gap(net, A) for A in draw_keep(N, N // 2, rng, n_draws=3)]
        rows.append((N, np.mean(gaps)))
N_arr, eps = np.array(rows).T
fit = loglog_fit(N_arr, eps, n_boot=200)
print(fit)

# %%
# On log-log axes, with the fitted rate and its 95% bootstrap interval
# (nets resampled within each N; each point is a net's mean over 3 draws of A).

fig = rate_plot(N_arr, eps, fit, xlabel="N", ylabel="eps_D, |A| = N/2 (mean of 3 draws)")
fig.tight_layout()
