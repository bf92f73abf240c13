"""
A path between two multilayer nets
==================================

The multilayer net of Shevchenko & Mondelli (ICML 2020, eq. 4.1) with
L + 1 = 4 layers, fixed first and last layer, the middle layers trained by
one-pass SGD (eq. 4.3).  Two nets trained from independent initialisations
are joined through their dropout networks (Kuditipudi et al., NeurIPS 2019,
Lemmas 1-2; Theorem 2(B) of Shevchenko & Mondelli); the risk along the path
is a Monte Carlo estimate with its standard error.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfield.connectivity import barrier, dropout_connect
from meanfield.dropout import draw_keep
from meanfield.multilayer import MCRisk, init_net, run_sgd
from meanfield.multilayer.experiment import MCLoss, path_profile
from meanfield.tasks import teacher_student

d, L = 10, 3
N = 100
T = 4.0
n_mc = 4000          # Monte Carlo samples of the risk
n_per_segment = 9    # points per segment of the path
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0"):
    N, T, n_mc, n_per_segment = 40, 2.0, 2000, 5  # the test suite's sizes
# sphinx_gallery_end_ignore

task = teacher_student(d, "tanh", width=2)
mc = MCRisk(task, n_mc, rng=999)

# %%
# Two nets, each from its own initial weights and data stream.

nets = []
for seed in (0, 1):
    net0 = init_net(d, N, L, activation="sigmoid", rng=seed)
    run = run_sgd(net0, task, 0.1, [0.0, T], mc=mc, batch_size=10, rng=10 + seed,
                  progress=False)
    print(f"net {seed}: risk {run.risk[0]:.4f} -> {run.risk[-1]:.4f} (+- {run.risk_se[-1]:.4f})")
    nets.append(run.nets[-1])

# %%
# Half of the neurons of every hidden layer kept, the same sets for both nets;
# the path and its barrier eps_C (eq. 4.5), with the paired standard error.

keep = draw_keep(N, N // 2, np.random.default_rng(5), n_hidden=L)
path = dropout_connect(nets[0].weights, nets[1].weights, keep)
eps_c, se, _ = barrier(path, MCLoss(mc, "sigmoid"), with_error=True)
prof = path_profile(path, "sigmoid", mc, n_per_segment=n_per_segment)
print(f"{path.n_segments} segments, eps_C = {eps_c:.4f} +- {se:.4f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(prof["s"], prof["risk"], ".-")
ax.set_xlabel("path parameter s")
ax.set_ylabel("Monte Carlo risk")
ax.set_title(f"4-layer nets, N = {N}: eps_C = {eps_c:.2g} +- {se:.1g}")
fig.tight_layout()
