"""Experiment B of Nguyen, Bréchet & Mondelli (Section 6): the unconstrained Brent search over
the output scale, and which network the scale multiplies."""

import numpy as np
import pytest

from meanfield import TORCH_HINT
from meanfield.dropout import best_scales

torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_HINT}")

from meanfield.torch import FullyConnectedNet  # noqa: E402
from meanfield.torch.dropout import best_rescaled_dropout, random_half_masks  # noqa: E402

# Brent's xtol is 1.48e-8 relative; on an exact quadratic the minimiser is found well within
SCALE_RTOL = 1e-6


def test_default_search_is_unbounded_and_the_bound_is_an_opt_in():
    objectives = [lambda r: (r - 7.0) ** 2 + 1.0, lambda r: (r - 0.1) ** 2 + 0.5, 2.0]
    res = best_scales(objectives, bracket=(0.5, 2.0))
    best, losses, scales = res.best, res.losses, res.scales
    assert res.loss == losses[1] and res.scale == scales[1] and res.keep is None
    np.testing.assert_allclose(scales, [7.0, 0.1, 1.0], rtol=SCALE_RTOL)
    np.testing.assert_allclose(losses, [1.0, 0.5, 2.0], rtol=1e-12)
    assert best == 1
    bounded = best_scales(objectives, bracket=(0.5, 2.0), max_scale=4.0).scales
    np.testing.assert_allclose(bounded, [4.0, 0.25, 1.0], rtol=1e-4)
    with pytest.raises(ValueError, match="max_scale must be None or a finite number > 1"):
        best_scales(objectives, max_scale=0.5)


@pytest.mark.parametrize("c", [7.0, 0.1])
@pytest.mark.parametrize("depth,bias,layer", [(2, "input", 1), (3, "all", 1), (4, "all", 2)])
def test_experiment_b_finds_a_scale_outside_one_quarter_to_four(c, depth, bias, layer,
                                                                 torch_device):
    """Square loss against ``c`` times the draw's own dropout output: the least loss, 0, is at
    r = c exactly, which a search confined to [1/4, 4] cannot reach."""
    net = FullyConnectedNet(5, 12, 3, depth=depth, bias=bias, seed=2, dtype=torch.float64,
                            device=torch_device, parameterisation="standard")
    X = np.random.default_rng(0).standard_normal((40, 5))
    masks = random_half_masks(net, 1, 9)
    masks[:, :layer - 1] = 1.0
    with torch.no_grad():
        y = c * net(X, masks)[0].cpu().numpy()
    res = best_rescaled_dropout(net, X, y, layer, draws=1, loss="square", seed=9)
    assert torch.equal(res.keep.cpu(), masks[0])
    assert res.scale == pytest.approx(c, rel=SCALE_RTOL)
    assert res.loss == pytest.approx(0.0, abs=1e-10 * float(np.mean(y ** 2)))


def _plain_removal(W, X, mask, layer, bias):
    """Nguyen et al. eq. (1), standard parameterisation, ReLU, the dropped neurons of hidden
    layers >= ``layer`` zeroed and nothing rescaled: numpy, independent of the package."""
    h = np.c_[X, np.ones(len(X))] if bias != "none" else X
    h = np.maximum(h @ W[0].T, 0.0)
    for p in range(1, len(W)):
        if p >= layer:
            h = h * mask[p - 1]
        if p == len(W) - 1:
            return h @ W[p].T
        pre = h @ W[p][:, :h.shape[1]].T
        if bias == "all":
            pre = pre + W[p][:, -1]
        h = np.maximum(pre, 0.0)


@pytest.mark.parametrize("bias", ["input", "none", "all"])
def test_the_scaled_network_is_plain_removal_up_to_a_constant_iff_no_hidden_bias(bias, rng,
                                                                                torch_device):
    """The docstring's claim: ReLU without hidden biases, the N/|A_p| of every dropped layer
    is one constant on the output (absorbed by r); with hidden biases it is not."""
    depth, layer, N = 4, 1, 10
    net = FullyConnectedNet(3, N, 2, depth=depth, bias=bias, seed=5, dtype=torch.float64,
                            device=torch_device, parameterisation="standard")
    X = rng.standard_normal((50, 3))
    mask = random_half_masks(net, 1, 3)[0]
    with torch.no_grad():
        ours = net(X, mask[None])[0].cpu().numpy()
    plain = _plain_removal([w.detach().cpu().numpy() for w in net.weights], X,
                           mask.numpy(), layer, bias)
    ratio = ours / plain
    if bias == "all":
        assert np.ptp(ratio) > 1e-3
    else:
        np.testing.assert_allclose(ratio, (N / 5) ** (depth - layer), rtol=1e-10)


@pytest.mark.parametrize("c", [3.0, 0.2])
@pytest.mark.parametrize("depth,layer", [(3, 1), (4, 1), (4, 2)])
def test_plain_removal_is_section_6s_network_with_one_output_scale(c, depth, layer, rng,
                                                                   torch_device):
    """removal="plain": the network r multiplies is the net with the dropped neurons merely
    zeroed (the numpy forward above, independent of the package), hidden biases and all:
    its loss at r = 1 is that net's, and the search finds r = c against c times its output."""
    net = FullyConnectedNet(4, 10, 2, depth=depth, bias="all", seed=7, dtype=torch.float64,
                            device=torch_device, parameterisation="standard")
    X = rng.standard_normal((60, 4))
    masks = random_half_masks(net, 1, 11)
    masks[:, :layer - 1] = 1.0
    plain = _plain_removal([w.detach().cpu().numpy() for w in net.weights], X,
                           masks[0].numpy(), layer, "all")
    y = c * plain
    res = best_rescaled_dropout(net, X, y, layer, draws=1, loss="square", seed=11,
                                removal="plain")
    assert torch.equal(res.keep.cpu(), masks[0])
    square = float(np.mean(np.sum(((1 - c) * plain) ** 2, axis=1)))  # per sample: a sum
    assert res.fixed_losses[0] == pytest.approx(square, rel=1e-10)
    assert res.scale == pytest.approx(c, rel=SCALE_RTOL)
    assert res.loss == pytest.approx(0.0, abs=1e-10 * float(np.mean(y ** 2)))
    # the rescaled network is another one here (hidden biases): r = c does not fit it
    other = best_rescaled_dropout(net, X, y, layer, draws=1, loss="square", seed=11)
    assert other.loss > 1e-4 * float(np.mean(y ** 2))
    with pytest.raises(ValueError, match="removal must be one of rescaled, plain, got 'half'"):
        best_rescaled_dropout(net, X, y, layer, draws=1, removal="half")


def test_the_b_plain_setting_is_checked_and_keeps_old_cell_names():
    from meanfield.experiments import cell_id
    from meanfield.torch.settings import DeepPathSettings, DeepSettings

    base = {k: v for k, v in vars(DeepSettings(N=8)).items() if k != "b_plain"}
    assert cell_id("deep_connectivity", base) == cell_id(
        "deep_connectivity", {**base, "b_plain": False})
    assert cell_id("deep_connectivity", {**base, "b_plain": True}) != cell_id(
        "deep_connectivity", base)
    DeepSettings(N=8, b_plain=True).check()
    with pytest.raises(ValueError, match="b_plain must be true or false, got 'yes'"):
        DeepSettings(N=8, b_plain="yes").check()
    with pytest.raises(ValueError, match="b_plain must be false for the paths' cell"):
        DeepPathSettings(N=8, b_plain=True).check()
