"""
The radial PDE against particles
================================

For the isotropic Gaussian classification task of Mei, Montanari & Nguyen
(PNAS 2018, Section 3) with frozen output weights, the law of the weights
stays rotation invariant, and the mean-field dynamics reduces to a 1-D PDE
for the law of ``r = |w|``.  :func:`meanfield.pde.solve_radial` integrates it
by a monotone quantile map; here it is set against the particle limit of the
same dynamics (M particles in d dimensions, RK4), whose radii follow the PDE.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfield.pde import radius_of_gaussian, sample_weights, solve_radial
from meanfield.tasks import isotropic_gaussians
from meanfield.twolayer import run_limit

d = 20
M = 200
T = 2.0
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0"):
    M, T = 100, 0.5  # the test suite's sizes
# sphinx_gallery_end_ignore
times = np.linspace(0.0, T, 9)

task = isotropic_gaussians(d, delta=0.5, activation="ramp")
law = radius_of_gaussian(d, std=0.8)

# %%
# The PDE on quantile nodes, and the particle limit with the output weights
# frozen at 1 (``train_a=False``), from the same initial law.  The particles'
# risk carries a bias of order 1/M (the diagonal of the pair sum).

sol = solve_radial(task, law, times, M=1000, h=0.02)
W0 = sample_weights(law, M, d, 0)
# the tagged particles (whose weights are returned) are the population itself
particles = run_limit((np.ones(M), W0), task, times, (np.ones(M), W0), h=0.05, train_a=False,
                      progress=False)
radii = np.linalg.norm(particles.W, axis=2)
print("risk, PDE:      ", np.round(sol.risk, 4))
print("risk, particles:", np.round(particles.risk, 4))
print(f"W1 between the two laws of |w| at t = {times[-1]:g}: {sol.w1(-1, radii[-1]):.4f}")

# %%
# The risk along time, and the law of ``|w|`` at the horizon.

fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.5))
ax.plot(sol.times, sol.risk, "-", label="radial PDE")
ax.plot(particles.times, particles.risk, "s", label=f"particle limit, M = {M}")
ax.set_xlabel("t")
ax.set_ylabel("R(rho_t)")
ax.legend()
edges, dens = sol.density(-1, bins=40)
bx.stairs(dens, edges, label="PDE")
bx.hist(radii[-1], bins=edges, density=True, alpha=0.4, label="particles")
bx.set_xlabel(f"r = |w| at t = {times[-1]:g}")
bx.legend()
fig.tight_layout()
