"""
The Gram matrix K^(H) against a wide net
========================================

In the lazy (kernel) regime of Du et al. ("Gradient descent finds global
minima of deep neural networks", ICML 2019), the Gram matrix ``G^(H)`` of the
gradients of the last hidden layer of a depth-H fully connected net tends, as
the width m grows, to the deterministic ``K^(H)`` of their Definition 5.1.
Here the relative distance between the two falls like ``m^(-1/2)``.
"""

import numpy as np

from meanfield.analysis import loglog_fit
from meanfield.plotting import rate_plot
from meanfield.lazy import fc_gram, init_net

n, d, H = 20, 10, 3
widths = [64, 256, 1024, 4096]
seeds = range(3)
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0"):
    widths, seeds = [64, 256, 1024], range(2)  # the test suite's sizes
# sphinx_gallery_end_ignore

rng = np.random.default_rng(0)
X = rng.standard_normal((n, d))
X /= np.linalg.norm(X, axis=1, keepdims=True)      # inputs on the unit sphere

K = fc_gram(X, H).K
print(f"K^(H): {n} x {n}, least eigenvalue {np.linalg.eigvalsh(K)[0]:.4f}")

# %%
# ``G^(H)`` at initialisation for growing widths.

rows = []
for m in widths:
    for seed in seeds:
        G = init_net(d, m, H, rng=seed).gram_last(X)
        rows.append((m, np.linalg.norm(G - K) / np.linalg.norm(K)))
m_arr, err = np.array(rows).T
fit = loglog_fit(m_arr, err, n_boot=200)
print(fit)

fig = rate_plot(m_arr, err, fit, xlabel="width m", ylabel="||G^(H) - K^(H)|| / ||K^(H)||")
fig.tight_layout()
