"""Du et al. (2019) Gram matrices K^(H): closed forms, Monte Carlo, and very wide random nets."""

import numpy as np
import pytest

from meanfield.activations import get_activation
from meanfield.lazy import c_sigma, fc_gram, pair_expectations, resnet_gram


def _sphere(n, d, seed):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _wide_gram(X, H, act, m, rng, c_res=None):
    """G^(H)(0) = Gram of df/dW^(H) of one random net of width m (eq. (2), or eq. (3))."""
    sig = get_activation(act)
    cs = c_sigma(act)
    x = np.sqrt(cs / m) * sig(rng.standard_normal((m, X.shape[1])) @ X.T)
    for _ in range(2, H):
        z = sig(rng.standard_normal((m, m)) @ x)
        x = x + c_res / (H * np.sqrt(m)) * z if c_res else np.sqrt(cs / m) * z
    D = sig.derivative(rng.standard_normal((m, m)) @ x)
    a = rng.standard_normal(m)
    scale = (c_res / H) ** 2 if c_res else cs
    return scale / m * ((a[:, None] ** 2 * D).T @ D) * (x.T @ x)


X6 = _sphere(6, 3, 0)


def test_relu_closed_forms_are_the_arc_cosine_kernels():
    theta = np.arccos(np.clip(X6 @ X6.T, -1, 1))
    # H = 1: the two-layer Gram matrix of Du et al. (2018b), c_sigma = 2 for ReLU
    K1 = fc_gram(X6, 1, "relu").K
    np.testing.assert_allclose(K1, (X6 @ X6.T) * (np.pi - theta) / np.pi, atol=1e-14)
    # hidden layer: the order-1 arc-cosine kernel (Cho & Saul), normalised by c_sigma
    hidden = fc_gram(X6, 2, "relu").layers[1]
    np.testing.assert_allclose(hidden, (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / np.pi,
                               atol=1e-14)
    assert c_sigma("relu") == pytest.approx(2.0, rel=1e-15)


def test_softplus_pair_expectations_against_monte_carlo():
    K = np.array([[1.3, 0.6], [0.6, 0.8]])
    F, D = pair_expectations("softplus", K)
    rng = np.random.default_rng(1)
    uv = rng.multivariate_normal([0, 0], K, size=2_000_000)
    sig = get_activation("softplus")
    for est, mc in ((F[0, 1], sig(uv[:, 0]) * sig(uv[:, 1])),
                    (D[0, 1], sig.derivative(uv[:, 0]) * sig.derivative(uv[:, 1])),
                    (F[0, 0], sig(uv[:, 0]) ** 2)):
        assert abs(est - mc.mean()) < 5 * mc.std() / np.sqrt(mc.size)


@pytest.mark.parametrize("act", ["relu", "softplus"])
def test_fc_recursion_is_the_wide_network_limit_and_settles_the_index(act):
    """The derivative at layer H sees K^(H-1) (A^(H)), not A^(H-1) as printed."""
    H, m = 2, 4000
    res = fc_gram(X6, H, act)
    _, D_printed = pair_expectations(act, res.layers[H - 2])
    printed = c_sigma(act) * res.layers[H - 1] * D_printed
    G = np.mean([_wide_gram(X6, H, act, m, np.random.default_rng(s)) for s in range(6)], 0)
    err = np.linalg.norm(G - res.K, 2)
    gap = np.linalg.norm(printed - res.K, 2)
    assert err < 0.03 * np.linalg.norm(res.K, 2)  # Monte Carlo at m = 4000, 6 nets
    assert err < gap / 2  # G is much nearer the A^(H) version than the printed one


@pytest.mark.parametrize("act", ["relu", "softplus"])
def test_deeper_fc_and_resnet_recursions_match_wide_networks(act):
    H, m = 3, 3000
    for gram, c_res in ((fc_gram(X6, H, act), None), (resnet_gram(X6, H, act, c_res=0.5), 0.5)):
        G = np.mean([_wide_gram(X6, H, act, m, np.random.default_rng(10 + s), c_res)
                     for s in range(3)], 0)
        assert np.linalg.norm(G - gram.K, 2) < 0.06 * np.linalg.norm(gram.K, 2)


def test_lambda_min_is_positive_for_distinct_points():
    X = _sphere(30, 5, 2)
    for act in ("relu", "erf", "softplus"):
        assert fc_gram(X, 4, act).lambda_min > 0
        assert resnet_gram(X, 4, act).lambda_min > 0


@pytest.mark.parametrize("kw,msg", [({"X": np.ones((2, 3))}, "unit sphere"),
                                    ({"X": np.vstack([X6[:2], X6[:1]])}, "duplicate"),
                                    ({"H": 0}, "H must be an integer >= 1"),
                                    ({"X": np.ones(3)}, r"shape \(n, d\)")])
def test_bad_input(kw, msg):
    args = {"X": X6, "H": 2, **kw}
    with pytest.raises(ValueError, match=msg):
        fc_gram(args["X"], args["H"])
    from meanfield.lazy import conv_resnet_gram, init_conv_net, init_net

    for build in (lambda: resnet_gram(X6, 3, c_res=1.5),
                  lambda: conv_resnet_gram(np.full((2, 1, 4), 0.5), 3, c_res=0.0),
                  lambda: init_net(3, 4, 2, resnet=True, c_res=1.0),
                  lambda: init_conv_net(1, 4, 5, 2, c_res=-0.1)):
        with pytest.raises(ValueError, match="c_res must lie in"):
            build()
    init_net(3, 4, 2, c_res=1.0)  # c_res is unused without the residual layers


@pytest.mark.parametrize("act,fast", [("softplus", True), ("tanh", True), ("ramp", False)])
def test_equal_diagonal_fast_path_matches_direct_quadrature(act, fast, monkeypatch):
    from meanfield.lazy import gram

    X = _sphere(25, 4, 3)
    K = fc_gram(X, 2, act).layers[1]
    used = []
    real = gram._by_correlation
    monkeypatch.setattr(gram, "_by_correlation", lambda *a: used.append(real(*a)) or used[-1])
    F, D = pair_expectations(act, K)
    assert (used[0] is not None) == fast  # kinked activations fall back to direct quadrature
    F0, D0 = gram._direct(get_activation(act), np.ascontiguousarray(K), np.diag(K).copy())
    np.testing.assert_allclose(F, 0.5 * (F0 + F0.T), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(D, 0.5 * (D0 + D0.T), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("resnet", [False, True])
def test_backprop_matches_finite_differences(resnet):
    from meanfield.lazy.networks import init_net

    X, y = _sphere(4, 3, 5), np.array([0.3, -1.0, 0.5, 2.0])
    net = init_net(3, 7, 3, "softplus", resnet=resnet, c_res=0.5, rng=2)
    _, gW, ga = net.gradients(X, y)
    eps = 1e-6
    for h, (i, j) in ((0, (2, 1)), (1, (4, 6)), (2, (0, 3))):
        W = net.Ws[h]
        W[i, j] += eps
        up = net.loss(X, y)
        W[i, j] -= 2 * eps
        down = net.loss(X, y)
        W[i, j] += eps
        assert gW[h][i, j] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9)
    net.a[5] += eps
    up = net.loss(X, y)
    net.a[5] -= 2 * eps
    assert ga[5] == pytest.approx((up - net.loss(X, y)) / (2 * eps), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("resnet", [False, True])
def test_last_layer_gram_is_part_of_the_full_ntk(resnet):
    from meanfield.lazy.networks import init_net

    X = _sphere(5, 4, 6)
    net = init_net(4, 30, 3, "relu", resnet=resnet, c_res=0.5, rng=3)
    rows = []
    for i in range(5):  # df(x_i)/dW^(H) from backprop with residual 1
        f, _ = net.forward(X[i:i + 1])
        rows.append(net.gradients(X[i:i + 1], f - 1.0)[1][-1].ravel())
    J = np.array(rows)
    G = net.gram_last(X)
    np.testing.assert_allclose(G, J @ J.T, rtol=1e-12, atol=1e-14)
    assert np.linalg.eigvalsh(net.ntk(X) - G)[0] > -1e-10  # the other layers add a PSD part


@pytest.mark.parametrize("resnet", [False, True])
def test_wide_gd_is_lazy_and_beats_the_predicted_rate(resnet):
    """Du et al. Thms 5.1/6.1: L(k) <= (1 - eta lambda_min(K^(H)) / 2)^k L(0); weights
    move by O(m^(-1/2))."""
    from meanfield.lazy.networks import init_net, train_gd

    X = _sphere(8, 5, 0)
    y = np.random.default_rng(0).standard_normal(8)
    gram = resnet_gram(X, 2, "softplus", c_res=0.5) if resnet else fc_gram(X, 2, "softplus")
    moved = {}
    for m in (100, 1600):
        for seed in (1, 2):
            net = init_net(5, m, 2, "softplus", resnet=resnet, c_res=0.5, rng=seed)
            eta = 1.0 / np.linalg.eigvalsh(net.ntk(X))[-1]
            res = train_gd(net, X, y, eta, 60, record_every=60)
            bound = (1 - eta * gram.lambda_min / 2) ** np.arange(res.loss.size) * res.loss[0]
            assert np.all(res.loss <= bound) and res.loss[-1] < 0.3 * res.loss[0]
            # per unit of initial residual: the distance travelled scales with it
            moved.setdefault(m, []).append(res.movement[-1].sum() / np.sqrt(res.loss[0]))
    ratio = np.mean(moved[100]) / np.mean(moved[1600])
    assert 2.5 < ratio < 6.0  # ~ sqrt(1600 / 100) = 4


def test_erf_closed_form_agrees_with_the_quadrature_path():
    from meanfield.kernels.gaussian import quad_pair
    from meanfield.lazy import gram

    K = fc_gram(X6, 2, "erf").layers[1]
    F, D = pair_expectations("erf", K)
    act = get_activation("erf")
    for i, j in ((0, 1), (2, 5), (3, 3)):
        f, _, f12 = quad_pair(act.kind, act.p, act.kind, act.p, K[i, i], K[j, j], K[i, j],
                              gram.QUAD)
        assert (F[i, j], D[i, j]) == pytest.approx((f, f12), rel=1e-9, abs=1e-12)


def test_two_layer_scalings_lazy_and_mean_field():
    from meanfield.lazy.networks import train_two_layer

    X = _sphere(10, 4, 1)
    y = np.tanh(X @ np.array([1.0, -0.5, 0.3, 0.8]))
    ntk = [train_two_layer(X, y, m, "ntk", steps=100, rng=0) for m in (100, 1600)]
    mf = [train_two_layer(X, y, m, "mf", steps=100, rng=0) for m in (100, 1600)]
    assert ntk[0].relative_movement / ntk[1].relative_movement == pytest.approx(4, rel=0.25)
    assert mf[0].relative_movement / mf[1].relative_movement == pytest.approx(1, rel=0.15)
    assert all(r.loss[-1] < 0.2 * r.loss[0] for r in ntk + mf)
    with pytest.raises(ValueError, match="scaling must be"):
        train_two_layer(X, y, 10, "lazy")


def test_gd_divergence_keeps_the_run_so_far():
    from meanfield.lazy.networks import init_net, train_gd
    from meanfield.stepping import DivergenceError

    X = _sphere(6, 4, 4)
    net = init_net(4, 50, 2, "relu", rng=0)
    eta = 10.0 / np.linalg.eigvalsh(net.ntk(X))[-1]  # far above the stable 2 / lambda_max
    with pytest.raises(DivergenceError) as err:
        train_gd(net, X, np.ones(6), eta=eta, steps=300, record_every=1)
    part, k = err.value.partial, err.value.step
    assert k >= 1 and part.loss.size == k and part.steps[-1] == k - 1
    assert np.all(np.isfinite(part.loss)) and part.movement.shape == (k, 2)


# ---- the convolutional ResNet (Section 3, Definition 7.1, Theorem 7.1) ----

def _images(n, c, p, seed):
    X = np.random.default_rng(seed).standard_normal((n, c, p))
    return X / np.linalg.norm(X.reshape(n, -1), axis=1)[:, None, None]


def test_patch_gram_is_the_gram_of_the_networks_patches():
    from meanfield.lazy import patch_gram
    from meanfield.lazy.networks import patches

    X = _images(4, 3, 7, 0)
    n, c, p = X.shape
    for q in (1, 3, 5):
        phi = patches(X.transpose(1, 0, 2), q)
        assert phi.shape == (q * c, n * p)
        pixels = np.einsum("icl,jcr->iljr", X, X).reshape(n * p, n * p)
        np.testing.assert_allclose(patch_gram(pixels, n, p, q), phi.T @ phi, rtol=0,
                                   atol=1e-15)
    # the patch of the first pixel is (0, x_0, x_1): zero padding, not wrap-around
    phi = patches(X.transpose(1, 0, 2), 3)
    np.testing.assert_array_equal(phi[:c, 0], 0.0)
    np.testing.assert_array_equal(phi[c:2 * c, 0], X[0, :, 0])
    np.testing.assert_array_equal(phi[2 * c:, 0], X[0, :, 1])


@pytest.mark.parametrize("H", [1, 2, 3, 4])
@pytest.mark.parametrize("q", [1, 3])
def test_conv_gram_with_one_pixel_is_the_resnet_gram(H, q):
    """One pixel: the patches are the input and zeros, so K^(H) is eq. (3)'s (Def. 6.1)."""
    from meanfield.lazy import conv_resnet_gram

    X = _sphere(6, 4, 3)
    conv = conv_resnet_gram(X[:, :, None], H, "softplus", c_res=0.5, q=q)
    flat = resnet_gram(X, H, "softplus", c_res=0.5)
    np.testing.assert_allclose(conv.K, flat.K, rtol=1e-13, atol=1e-15)


def test_conv_net_with_one_pixel_and_q1_is_the_resnet():
    from meanfield.lazy.networks import ConvResNet, init_net

    X = _sphere(5, 4, 4)
    net = init_net(4, 50, 3, "softplus", resnet=True, c_res=0.5, rng=2)
    conv = ConvResNet(net.Ws, net.a[:, None], "softplus", 0.5, q=1)
    np.testing.assert_allclose(conv.forward(X[:, :, None])[0], net.forward(X)[0], rtol=1e-13)
    np.testing.assert_allclose(conv.gram_last(X[:, :, None]), net.gram_last(X), rtol=1e-12)


def test_conv_gram_last_is_the_gram_of_finite_differences():
    """G^(H) of the conv net against df/dW^(H) by central differences (independent of the
    closed form's sum over pixel pairs)."""
    from meanfield.lazy import init_conv_net

    X = _images(3, 2, 5, 5)
    net = init_conv_net(2, 5, 4, 3, "softplus", c_res=0.5, rng=8)
    W = net.Ws[-1]
    J = np.zeros((3, W.size))
    h = 1e-6
    for k in range(W.size):
        w0 = W.flat[k]
        W.flat[k] = w0 + h
        up = net.forward(X)[0]
        W.flat[k] = w0 - h
        down = net.forward(X)[0]
        W.flat[k] = w0
        J[:, k] = (up - down) / (2 * h)
    np.testing.assert_allclose(net.gram_last(X), J @ J.T, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("act", ["relu", "softplus"])
def test_conv_gram_is_the_wide_network_limit(act):
    """Wide conv ResNets at initialisation approach Definition 7.1's K^(H) (Theorem 7.1's
    matrix), and the patch structure matters: the q = 1 limit is far off."""
    from meanfield.lazy import conv_resnet_gram, init_conv_net

    X = _images(4, 2, 5, 1)
    K = conv_resnet_gram(X, 3, act, c_res=0.5).K
    K1 = conv_resnet_gram(X, 3, act, c_res=0.5, q=1).K
    G = np.mean([init_conv_net(2, 5, 1500, 3, act, c_res=0.5, rng=20 + s).gram_last(X)
                 for s in range(4)], 0)
    err = np.linalg.norm(G - K, 2) / np.linalg.norm(K, 2)
    assert err < 0.08  # Monte Carlo: 4 nets of 1500 channels (0.045 relu, 0.046 softplus)
    assert err < np.linalg.norm(G - K1, 2) / np.linalg.norm(K1, 2) / 4
    assert np.linalg.eigvalsh(K)[0] > 0


@pytest.mark.parametrize("kw, msg", [
    (dict(X=np.ones((3, 2)), H=2), "shape"),
    (dict(X=np.ones((3, 2, 4)), H=2), "unit sphere"),
    (dict(X=_images(3, 2, 4, 0), H=2, q=2), "q must be an odd integer"),
    (dict(X=_images(3, 2, 4, 0), H=0), "H must be"),
    (dict(X=_images(3, 2, 4, 0), H=2, c_res=1.0), "c_res"),
])
def test_conv_gram_bad_input(kw, msg):
    from meanfield.lazy import conv_resnet_gram

    with pytest.raises(ValueError, match=msg):
        conv_resnet_gram(**kw)


def test_patch_gram_and_patches_refuse_an_even_or_bad_width():
    """patch_gram with q = 2 returned the q = 3 Gram matrix (offsets -1 ... 1) without a
    word, and patches raised an IndexError; both now name q, and a K of the wrong shape
    is named too."""
    from meanfield.lazy import patch_gram
    from meanfield.lazy.networks import patches

    K = np.eye(6)
    for q in (2, 0, -1, 1.0, True):
        with pytest.raises(ValueError, match="q must be an odd integer"):
            patch_gram(K, 2, 3, q)
        with pytest.raises(ValueError, match="q must be an odd integer"):
            patches(np.ones((1, 2, 3)), q)
    with pytest.raises(ValueError, match=r"K must have shape \(n p, n p\) = \(6, 6\)"):
        patch_gram(np.eye(5), 2, 3, 3)


def test_conv_net_names_images_of_the_wrong_shape():
    """Images with another pixel count or channel count than the net's raised numpy's
    broadcasting or matmul errors (or an unpacking error in gram_last for 2-d X)."""
    from meanfield.lazy import init_conv_net

    net = init_conv_net(2, 5, 4, 2, "relu", c_res=0.5, rng=0)
    for X in (_images(3, 2, 4, 0), _images(3, 3, 5, 0), np.ones((3, 10))):
        for call in (net.forward, net.gram_last):
            with pytest.raises(ValueError, match=r"X must have shape \(n, channels, pixels\) "
                                                 r"= \(n, 2, 5\) for this net"):
                call(X)
    assert net.gram_last(_images(3, 2, 5, 0)).shape == (3, 3)


def test_conv_gram_layers_are_the_wide_networks_pixel_grams():
    """Every layer's pixel Gram matrix K^(h) (GramResult.layers) against wide ReLU conv nets'
    <x_i^(h)_(:, l), x_j^(h)_(:, r)>, at H = 4 and c_res = 0.9 where the b-vector cross
    terms are large: without them layers 2 and 3 are 0.15 and 0.29 off (in max entry over
    the largest), beyond the tolerance.  The judged row's erf has b = 0 (E erf(u) = 0), so
    this is where the cross terms are checked layer by layer."""
    from meanfield.lazy import conv_resnet_gram, init_conv_net

    X = _images(3, 2, 5, 1)
    n, _, p = X.shape
    res = conv_resnet_gram(X, 4, "relu", c_res=0.9)
    assert np.abs(res.b[1]).min() > 0.3
    nets = [init_conv_net(2, p, 2000, 4, "relu", c_res=0.9, rng=s) for s in range(4)]
    xs = [net.forward(X)[1][0] for net in nets]
    for h in (1, 2, 3):
        L = np.mean([np.einsum("kil,kjr->iljr", x[h], x[h]).reshape(n * p, n * p)
                     for x in xs], 0)
        K = res.layers[h]
        assert np.abs(L - K).max() / np.abs(K).max() < 0.07, h
