"""Per-sample losses of the torch backend: cross-entropy and the square loss of eq. (3.2)."""

from __future__ import annotations

import numpy as np
import torch

from .settings import LOSSES


def check_loss(loss):
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    return loss


def as_targets(y, device, dtype):
    """Labels or targets as a tensor on ``device``: integer labels stay integers, real
    targets take ``dtype`` (that of the net's outputs)."""
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y, device=device)
    return y.to(dtype) if y.is_floating_point() else y


def per_sample(out, y, loss):
    """Loss of each sample; ``out`` has shape (..., n, n_out), the result (..., n).

    ``square`` is ``|y - yhat|^2`` (no 1/2, as in eq. 3.2 and 4.2) with ``y``
    one-hot for integer labels, or the target itself for real ``y`` of shape
    (n,) or (n, n_out).
    """
    if loss == "cross_entropy":
        if y.is_floating_point():
            raise ValueError("cross_entropy needs integer class labels y")
        lead = out.shape[:-1]
        flat = out.reshape(-1, out.shape[-1])
        yy = y.expand(lead).reshape(-1)
        return torch.nn.functional.cross_entropy(flat, yy, reduction="none").reshape(lead)
    if y.is_floating_point():
        target = y if y.ndim == 2 else y[:, None]
    else:
        target = torch.nn.functional.one_hot(y, out.shape[-1]).to(out.dtype)
    return ((out - target) ** 2).sum(-1)


def errors(out, y):
    """1 where the arg-max output is not the label, else 0; NaN for real targets."""
    if y.is_floating_point():
        return torch.full(out.shape[:-1], float("nan"), dtype=out.dtype, device=out.device)
    return (out.argmax(-1) != y).to(out.dtype)
