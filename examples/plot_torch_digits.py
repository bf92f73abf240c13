"""
Dropout stability of a real network (torch, digits)
===================================================

The torch backend trains fully connected nets in mean-field scaling (every
hidden sum carries 1/N; Shevchenko & Mondelli, ICML 2020, Section 5) and
evaluates many dropout networks in one batched pass.  On scikit-learn's
bundled 8x8 digits: a two-layer net trained by SGD, and the test error of the
full net against that of 100 dropout networks keeping a random half of the
hidden neurons.
"""

import matplotlib.pyplot as plt
import torch

from meanfield.tasks.datasets import digits
from meanfield.torch import (
    DataStream,
    FullyConnectedNet,
    TrainConfig,
    evaluate,
    random_half_masks,
    train,
)

N = 800
epochs = 5
# sphinx_gallery_start_ignore
import os  # noqa: E402

if os.environ.get("MEANFIELD_GALLERY_SMALL", "0") not in ("", "0"):
    N, epochs = 200, 2  # the test suite's sizes
# sphinx_gallery_end_ignore
torch.set_num_threads(2)

data = digits()
net = FullyConnectedNet(data.d, N=N, n_out=10, depth=2, seed=0, device="cpu")
train(net, DataStream(data.X_train, data.y_train, 50, device=net.device),
      TrainConfig(alpha=0.2, epochs=epochs), progress=False)

# %%
# The full net, then 100 dropout networks in one pass.

full = evaluate(net, data.X_test, data.y_test)
drop = evaluate(net, data.X_test, data.y_test, masks=random_half_masks(net, 100, seed=1))
print(f"full net: test error {full['error']:.3f}")
print(f"dropout nets: test error {drop['error'].mean():.3f} on average")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.hist(drop["error"], bins=20, alpha=0.7, label="dropout networks (|A| = N/2)")
ax.axvline(full["error"], color="k", label="full network")
ax.set_xlabel("test error")
ax.legend()
fig.tight_layout()
