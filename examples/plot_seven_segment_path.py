"""
The seven-segment path between two SGD solutions
================================================

Two networks trained by SGD from independent initialisations are joined by
the path of Shevchenko & Mondelli (ICML 2020, Theorem 1(B)): through the
dropout network of each, moving only output weights (convex segments) or
the input weights of neurons whose output weight is zero (constant
segments).  The loss along it therefore peaks at a vertex, and its barrier
``eps_C`` (eq. 3.5) is at most the larger dropout gap.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfield.connectivity import barrier
from meanfield.dropout import draw_keep
from meanfield.tasks import teacher_student
from meanfield.twolayer import InitialLaw, run_sgd, seven_segment_path

N = 400
T = 1.0
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0"):
    N, T = 100, 0.5  # the test suite's sizes
# sphinx_gallery_end_ignore

task = teacher_student(d=20, activation="relu", width=4)

# %%
# Two SGD solutions with independent initial weights and data.

nets = []
for seed in (0, 1):
    a0, W0 = InitialLaw().sample(N, task.d, np.random.default_rng(seed))
    traj = run_sgd((a0, W0), task, 1.0 / N, [T], rng=100 + seed, progress=False)
    nets.append((traj.a[-1], traj.W[-1]))
(a, W), (a2, W2) = nets

# %%
# The path through the dropout networks on a random half A, chosen
# independently of both nets; its loss is the exact population risk.

A = draw_keep(N, N // 2, np.random.default_rng(7))
path = seven_segment_path(task, a, W, a2, W2, A)
s, loss = path.dense(n_per_segment=33)
eps_c = barrier(path)
print(f"L_N(theta) = {loss[0]:.4f}, L_N(theta') = {loss[-1]:.4f}, eps_C = {eps_c:.4f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(s, loss, "-")
ax.plot(np.arange(path.n_segments + 1), path.vertex_losses(), "ko")
for k, label in enumerate(path.labels):
    ax.annotate(label, (k, path.vertex_losses()[k]), textcoords="offset points",
                xytext=(0, 6), ha="center", fontsize=7)
ax.set_xlabel("path parameter s (one unit a segment)")
ax.set_ylabel("population risk")
ax.set_title(f"seven-segment path, N = {N}: eps_C = {eps_c:.2g}")
fig.tight_layout()
