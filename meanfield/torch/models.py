"""Fully connected networks in mean-field scaling (Shevchenko & Mondelli eq. 1.1 and 3.1),
and in the standard scaling of Nguyen, Bréchet & Mondelli (eq. 1).

Mean field: ``yhat(x) = (1/N) W_L sigma(... (1/N) W_2 sigma(W_1 x~) ...)`` with
``x~ = (x, 1)`` when the bias is ``"input"``: the bias is a constant input
feature, so each first-layer neuron is one particle ``w_i in R^(d+1)`` and no
hidden sum gets a term that would need its own scaling.  Every hidden sum
carries 1/N, so the output is an average over neurons and the laws of the
weights, not their scale, set the network as N grows.

Standard: the same with the factors 1/N removed and each layer's initial
weights scaled by ``1/sqrt(fan_in)``, as torch's ``nn.Linear`` does.

Biases ``"all"`` (Nguyen et al. eq. 1, needed for their Theorem 4.1 path)
give every hidden layer a bias: the constant 1 is appended to the input of
every weight layer but the output one, so a bias is the last column of its
layer's matrix, the "incoming weights" of a neuron are one row, and paths,
permutations and dropout act on matrices alone.  The factor of the layer
(1/N in mean field) multiplies that column too.

:class:`FullyConnectedNet` is a :class:`meanfield.dropout.Network`: its forward
pass takes kept sets per hidden layer, or 0/1 masks of many patterns at once.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020: eqs. (1.1), (3.1), (3.4) and Section 5.
.. [2] Q. Nguyen, P. Bréchet and M. Mondelli, "When are solutions connected
   in deep networks?", NeurIPS 2021: eq. (1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .. import _checks
from ..activations import get_activation
from ..dropout import check_keep, dropout_rescale, keep_masks
from .settings import BIASES, INIT_LAWS, PARAMETERISATIONS


def pick_device(device="auto") -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; anything else is passed to torch."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:K', got {device!r}") \
            from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device")
    return dev


def torch_activation(name, **params):
    """The activation ``name`` of :mod:`meanfield.activations` as a torch function."""
    act = get_activation(name, **params)
    if act.name == "relu":
        return torch.relu
    if act.name == "erf":
        return torch.erf
    if act.name == "tanh":
        return torch.tanh
    if act.name == "sigmoid":
        return torch.sigmoid
    if act.name == "softplus":
        return torch.nn.functional.softplus
    s1, s2, t1, t2 = act.params

    def ramp(z):
        return s1 + (s2 - s1) * torch.clamp((z - t1) / (t2 - t1), 0.0, 1.0)

    return ramp


@dataclass(frozen=True)
class InitialLaw:
    """An i.i.d. law of the weight entries, independent of N (``InitLaw`` is its former name).

    The torch backend's initial law, as :class:`meanfield.twolayer.InitialLaw`
    is the two-layer particle system's.

    Each entry of a layer with reference scale ``s`` (``1/sqrt(fan_in)`` for the
    first layer, 1 for the others, so that ``<w_i, x>`` and the averages over
    neurons are O(1)) is drawn as ``s * scale * xi`` with ``xi`` of variance 1
    for every kind:

    * ``gaussian`` (unimodal): ``xi ~ N(0, 1)``;
    * ``uniform``: ``xi ~ U(-sqrt 3, sqrt 3)``;
    * ``bimodal``: ``xi = (+-mu + tau g) / sqrt(mu^2 + tau^2)``, an equal mixture
      of two Gaussians at ``+-mu`` with width ``tau`` (``mu = 1, tau = 0.25``).
      With the unimodal law this is the pair of initial laws of Figure 3 of
      Shevchenko & Mondelli (the paper does not print its parameters).
    """

    kind: str = "gaussian"
    scale: float = 1.0
    mu: float = 1.0
    tau: float = 0.25

    def __post_init__(self):
        if self.kind not in INIT_LAWS:
            raise ValueError(f"init must be one of {', '.join(INIT_LAWS)}, got {self.kind!r}")
        if not (math.isfinite(self.scale) and self.scale >= 0):
            raise ValueError(f"init scale must be a finite number >= 0, got {self.scale}")
        if not (self.mu >= 0 and self.tau >= 0 and self.mu + self.tau > 0):
            raise ValueError(f"bimodal mu and tau must be >= 0, not both 0; got {self.mu}, "
                             f"{self.tau}")

    def sample(self, shape, ref_scale, generator):
        g = torch.Generator().manual_seed(int(generator.integers(2**63)))
        if self.kind == "gaussian":
            xi = torch.randn(shape, generator=g, dtype=torch.float64)
        elif self.kind == "uniform":
            xi = (2 * torch.rand(shape, generator=g, dtype=torch.float64) - 1) * math.sqrt(3)
        else:
            sign = 2.0 * torch.randint(0, 2, shape, generator=g, dtype=torch.float64) - 1.0
            xi = (sign * self.mu + self.tau * torch.randn(shape, generator=g,
                                                          dtype=torch.float64))
            xi /= math.hypot(self.mu, self.tau)
        return xi * (ref_scale * self.scale)




def _bias_kind(bias):
    if bias is True:
        return "input"
    if bias is False or bias is None:
        return "none"
    if bias not in BIASES:
        raise ValueError(f"bias must be one of {', '.join(BIASES)} (or True/False), "
                         f"got {bias!r}")
    return bias


class FullyConnectedNet(torch.nn.Module):
    """A fully connected net with ``depth`` weight layers, in mean-field scaling by default.

    ``depth = 2`` is eq. (3.1) with vector outputs, ``yhat = (1/N) W_2 sigma(W_1 x~)``;
    ``depth = 3, 4`` are eq. (1.1).  Weights are ``weights[0]`` of shape
    ``(N, d + 1)`` (``(N, d)`` without bias), ``weights[1 .. depth-2]`` of shape
    ``(N, N)`` (``(N, N + 1)`` with bias ``"all"``) and ``weights[-1]`` of
    shape ``(n_out, N)``.  Layer k's sum is multiplied by ``factors()[k]``.

    Parameters
    ----------
    d : int
        Input dimension.
    N : int
        Neurons per hidden layer, >= 1.
    n_out : int
        Outputs (classes for cross-entropy).
    depth : int
        Number of weight layers, >= 2.
    activation : str
        Name in :mod:`meanfield.activations`; the same at every hidden layer.
    bias : {"input", "all", "none"} or bool
        ``"input"`` (True): a constant 1 appended to the input; ``"all"``: to
        the input of every weight layer but the last (a bias per hidden
        neuron); ``"none"`` (False).
    parameterisation : {"mean_field", "standard"}
        Factors 1/N on the sums after the first layer, or none.
    init : InitialLaw or str
        Law of every weight entry.
    seed : int or numpy Generator
        The draws are made on the CPU in float64 and then cast and moved, so
        a seed gives the same initial net on every device and dtype.
    dtype, device :
        torch dtype (default float32) and device (default ``"auto"``).
    """

    def __init__(self, d, N, n_out, depth=2, activation="relu", bias="input", init="gaussian",
                 seed=0, dtype=torch.float32, device="auto", parameterisation="mean_field"):
        super().__init__()
        for name, v, lo in (("d", d, 1), ("N", N, 1), ("n_out", n_out, 1), ("depth", depth, 2)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        self.d, self.N, self.n_out, self.depth = int(d), int(N), int(n_out), int(depth)
        self.bias = _bias_kind(bias)
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {', '.join(PARAMETERISATIONS)}, "
                             f"got {parameterisation!r}")
        self.parameterisation = parameterisation
        self.activation = activation
        self.sigma = torch_activation(activation)
        law = InitialLaw(init) if isinstance(init, str) else init
        if not isinstance(law, InitialLaw):
            raise ValueError(f"init must be an InitialLaw or one of {INIT_LAWS}, got {init!r}")
        self.init = law
        rng = _checks.generator(seed)
        fan0 = self.d + (self.bias != "none")
        hb = self.bias == "all"
        shapes = ([(self.N, fan0)] + [(self.N, self.N + hb)] * (self.depth - 2)
                  + [(self.n_out, self.N)])
        later = 1.0 if parameterisation == "mean_field" else 1.0 / math.sqrt(self.N)
        refs = [1.0 / math.sqrt(fan0)] + [later] * (self.depth - 1)
        dev = pick_device(device)
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(law.sample(s, r, rng).to(dtype=dtype, device=dev))
            for s, r in zip(shapes, refs))

    @property
    def n_hidden(self):
        """Hidden layers, ``depth - 1``."""
        return self.depth - 1

    @property
    def device(self):
        return self.weights[0].device

    @property
    def dtype(self):
        return self.weights[0].dtype

    def scales(self):
        """Learning-rate factors per layer: in mean field those of Section 5 (N for first and
        last layer, N^2 between); 1 in the standard parameterisation."""
        if self.parameterisation == "standard":
            return [1.0] * self.depth
        return [float(self.N)] + [float(self.N) ** 2] * (self.depth - 2) + [float(self.N)]

    def factors(self):
        """The factor on each weight layer's sum: 1, then 1/N (mean field) or 1 (standard)."""
        later = 1.0 / self.N if self.parameterisation == "mean_field" else 1.0
        return [1.0] + [later] * (self.depth - 1)

    def prepare(self, X):
        """Inputs as a tensor on the net's device and dtype, with the bias feature appended."""
        X = torch.as_tensor(X, dtype=self.dtype, device=self.device)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"X must have shape (n, {self.d}), got {tuple(X.shape)}")
        if self.bias != "none":
            X = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], dim=1)
        return X

    def _layer(self, h, Wl, c):
        """``c W_l (h, 1)`` for a hidden layer's matrix; h may carry its own scaling already
        (then c only multiplies the bias column)."""
        if self.bias == "all":
            return h @ Wl[:, :-1].T + c * Wl[:, -1]
        return h @ Wl.T

    def features(self, X, layer):
        """``f_l`` of Nguyen et al. eq. 1: the input (l = 0, without the bias feature) or the
        activations of hidden layer l, shape (n, d) or (n, N), without gradients."""
        H = self.depth - 1
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer <= H:
            raise ValueError(f"layer must be an integer in [0, {H}], got {layer!r}")
        if layer == 0:
            X = X if torch.is_tensor(X) else np.asarray(X)
            return torch.as_tensor(X, dtype=self.dtype, device=self.device)
        with torch.no_grad():
            return self._hidden(list(self.weights), X, layer)

    def _hidden(self, W, X, layer):
        """Activations of hidden layer ``layer`` >= 1 of the full net with matrices W."""
        c = self.factors()
        h = self.sigma(self.prepare(X) @ W[0].T)
        for k in range(1, layer):
            h = self.sigma(self._layer(h * c[k], W[k], c[k]))
        return h

    def forward(self, X, keep=None):
        """Outputs, shape (n, n_out); with ``keep``, those of the dropout network(s).

        ``keep`` is either kept sets, one integer array per hidden layer (one
        array: the same in every layer; :func:`meanfield.dropout.check_keep`),
        or masks: a tensor (or float array) of shape (K, depth - 1, N) (or
        (depth - 1, N) for one pattern), nonzero where a hidden neuron is
        kept, giving (K, n, n_out) for K dropout networks.  The dropout
        network keeps the set ``A_l`` of each hidden layer and replaces the
        1/N of the sum over that layer by ``1/|A_l|`` (the rescaling after
        eq. 4.3, :func:`meanfield.dropout.dropout_rescale`).  The first layer
        is shared by all K patterns; in a two-layer net the K outputs then
        come from one matrix product.

        References
        ----------
        Shevchenko & Mondelli (2020), eq. (3.4) and the dropout network after
        eq. (4.3).
        """
        return self.apply(list(self.weights), X, keep)

    def apply(self, W, X, keep=None):
        """:meth:`forward` with the layer matrices ``W`` (tensors) instead of the net's own."""
        if keep is None:
            return (self._hidden(W, X, self.depth - 1) @ W[-1].T) * self.factors()[-1]
        m, single = self._masks(keep)
        out = self._apply_masked(W, X, m)
        return out[0] if single else out

    def _apply_masked(self, W, X, m, rescale=True):
        """Outputs (K, n, n_out) of the K dropout networks of ``m``, masks already checked and
        on the net's device and dtype (:meth:`_masks`): no check, so no wait for the device.
        ``rescale=False``: the dropped units output 0 and the kept ones are left as they
        are (the plain removal of Nguyen, Bréchet & Mondelli, Section 6)."""
        c = self.factors()
        h = self._hidden(W, X, 1)
        if rescale:
            # kept outgoing weights times N/|A_l| (eq. 3.4), then the factor of the next
            # layer: in mean field the kept sum over |A_l| (gain N c_k = 1), in the
            # standard parameterisation N/|A_l| times it (c_k = 1)
            counts = m.sum(-1, keepdim=True).clamp(min=1)
            gain = 1.0 if self.parameterisation == "mean_field" else float(self.N)  # N c_k
            scaled = m * dropout_rescale(gain, counts)  # (K, depth-1, N)
        else:
            scaled = m
        if self.depth == 2:
            # out[k] = h diag(scaled_k) W_out^T, for all k in one product
            Wk = scaled[:, 0, None, :] * W[-1][None]  # (K, n_out, N)
            out = (h @ Wk.reshape(-1, self.N).T).reshape(len(h), len(m), self.n_out)
            out = out.permute(1, 0, 2)
        else:
            h = h[None] * scaled[:, 0, None, :]
            for k in range(1, self.depth - 1):
                h = self.sigma(self._layer(h, W[k], c[k])) * scaled[:, k, None, :]
            out = h @ W[-1].T
        return out

    def _masks(self, keep):
        """``(m, single)``: the masks checked, as a (K, depth - 1, N) tensor on the net's
        device and dtype; kept sets (integer arrays) become one 0/1 pattern.  The check runs
        where the masks are (host masks: no wait for the device), before the one copy to the
        device."""
        if not torch.is_tensor(keep) and not (isinstance(keep, np.ndarray)
                                              and not np.issubdtype(keep.dtype, np.integer)):
            keep = keep_masks(check_keep(keep, self.n_hidden, self.N), self.N)
        m = torch.as_tensor(keep)
        single = m.ndim == 2
        if single:
            m = m[None]
        if m.ndim != 3 or m.shape[1:] != (self.depth - 1, self.N):
            raise ValueError(f"masks must have shape (K, {self.depth - 1}, {self.N}) or "
                             f"({self.depth - 1}, {self.N}), got {tuple(m.shape)}")
        if (m.sum(-1) == 0).any():
            raise ValueError("masks: every hidden layer must keep at least one neuron")
        return m.to(device=self.device, dtype=self.dtype), single

    def numpy_weights(self):
        """Copies of the weights as float64 numpy arrays."""
        return [w.detach().to("cpu", torch.float64).numpy().copy() for w in self.weights]

    def load_numpy(self, weights):
        """Set the weights from numpy arrays of the same shapes."""
        if len(weights) != self.depth:
            raise ValueError(f"weights must hold {self.depth} arrays, got {len(weights)}")
        with torch.no_grad():
            for p, w in zip(self.weights, weights):
                w = torch.as_tensor(np.asarray(w), dtype=self.dtype, device=self.device)
                if w.shape != p.shape:
                    raise ValueError(f"weight shape {tuple(w.shape)} does not match "
                                     f"{tuple(p.shape)}")
                p.copy_(w)
        return self

    def extra_repr(self):
        return (f"d={self.d}, N={self.N}, n_out={self.n_out}, depth={self.depth}, "
                f"activation={self.activation!r}, bias={self.bias!r}, init={self.init.kind!r}, "
                f"parameterisation={self.parameterisation!r}")


#: Old name -> new name (one release, with a DeprecationWarning).
_RENAMED = {"InitLaw": "InitialLaw"}


def __getattr__(name):
    from .._deprecation import renamed

    return renamed(__name__, name, _RENAMED, globals())
