"""The validation scripts' quick modes (minutes): ``pytest -m slow``."""

import numpy as np
import pytest

from meanfield import TORCH_HINT
from tests.conftest import validation_script


_script = validation_script


@pytest.mark.slow
def test_sgd_vs_limit_quick_passes():
    """The erf row is judged and passes; the ReLU row is reported beside it."""
    import json

    mod = _script("sgd_vs_limit")
    assert mod.main(["--quick", "--quiet"]) == 0
    claims = json.loads((mod.OUT / "sgd_vs_limit_quick.json").read_text())["claims"]
    by_id = {c["id"]: c for c in claims}
    assert by_id["sgd_vs_limit/erf"]["pass"] is True
    assert by_id["sgd_vs_limit/relu"]["judged"] is False


@pytest.mark.slow
def test_dropout_rates_quick_claims():
    """Every claim row is there, judged by its rule (ReLU reported, beyond assumption A3).
    erf's (a) passes under the rule and under the old band, and so do (a)-(c) of ReLU and
    (b) of erf under their old rules, as before; the d sweep passes.  Quick sizes (N <= 1600)
    are too small for the old band of (c) with erf: the O(1/N) dropout shift still steepens
    its slope there (see the script's docstring)."""
    import json

    mod = _script("dropout_rates")
    mod.main(["--quick", "--quiet"])
    report = json.loads((mod.OUT / "dropout_rates_quick.json").read_text())
    rows = {c["id"]: c for c in report["claims"]}
    ids = {f"dropout_rates/{k}/{act}{case}" for act in ("erf", "relu")
           for k, cases in (("a", ("[t=0]", "[t=0.5]", "[t=1]")),
                            ("b", ("[|A|=6]", "[|A|=12]", "[|A|=25]")), ("c", ("",)))
           for case in cases}
    assert set(rows) == ids | {"dropout_rates/d/erf"}
    for key, c in rows.items():
        assert c["judged"] == ("/relu" not in key) and np.isfinite(c["value"])
        assert ("old_pass" in c) == (not key.startswith("dropout_rates/d/"))
    for t in ("0", "0.5", "1"):
        assert rows[f"dropout_rates/a/erf[t={t}]"]["pass"]
        assert rows[f"dropout_rates/a/erf[t={t}]"]["old_pass"]
        assert rows[f"dropout_rates/a/relu[t={t}]"]["old_pass"]
    for size in (6, 12, 25):
        for act in ("erf", "relu"):
            assert rows[f"dropout_rates/b/{act}[|A|={size}]"]["old_pass"]
    assert rows["dropout_rates/c/relu"]["old_pass"]
    assert rows["dropout_rates/d/erf"]["pass"]
    assert report["seconds"] > 0 and report["pass"] == all(
        c["pass"] for c in rows.values() if c["judged"])


@pytest.mark.slow
def test_lazy_gram_quick_passes():
    """Every judged row passes, (b) at Theorem 5.1's step; the large step is reported."""
    import json

    mod = _script("lazy_gram")
    assert mod.main(["--quick", "--quiet"]) == 0
    claims = json.loads((mod.OUT / "lazy_gram_quick.json").read_text())["claims"]
    by_id = {c["id"]: c for c in claims}
    nets = ("fc", "resnet")
    assert set(by_id) == ({f"lazy_gram/{r}/{n}" for r in ("a", "b", "b-large") for n in nets}
                          | {"lazy_gram/a/conv-resnet", "lazy_gram/c/ntk", "lazy_gram/c/mf",
                             "lazy_gram/d/ntk", "lazy_gram/e/fc"})
    assert all(by_id[c]["pass"] for c in by_id if by_id[c]["judged"])
    for c in by_id.values():
        assert all(x["pass"] is False for x in c.get("controls", [])), c["id"]
    for n in nets:
        small, large = by_id[f"lazy_gram/b/{n}"], by_id[f"lazy_gram/b-large/{n}"]
        assert small["pass"] is True and small["eta"] < large["eta"]
        assert large["judged"] is False and large["pass"] is None


def _needs_torch_and_fashion_mnist():
    from meanfield.tasks.datasets import FASHION_MNIST_DIR

    pytest.importorskip("torch", reason=f"torch not installed: {TORCH_HINT}")
    if not FASHION_MNIST_DIR.is_dir():
        pytest.skip("Fashion-MNIST not installed: sudo apt-get install dataset-fashion-mnist")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["empirical_dropout", "deep_connectivity"])
def test_fashion_mnist_scripts_quick_pass(name):
    _needs_torch_and_fashion_mnist()
    mod = _script(name)
    rc = mod.main(["--quick", "--quiet"])
    if name != "deep_connectivity":
        assert rc == 0
    else:  # (b): the path in float64 to rounding
        import json

        report = json.loads((mod.OUT / "deep_connectivity_quick.json").read_text())
        by_id = {c["id"]: c for c in report["claims"]}
        fig3 = {f"deep_connectivity/{r}" for r in ("layers", "fig3d", "sqrt-n")}
        assert set(by_id) == {f"deep_connectivity/{r}" for r in ("a", "b-vertices",
                                                                  "b-theorem")} | fig3
        assert all(c["judged"] is True and c["pass"] is True for k, c in by_id.items()
                   if k not in fig3)
        # Figure 3 a-c at quick size (L = 4, width 32) is judged but may fail (it did on
        # 2026-12-07: 3.57); its control, B under the same rule, must fail
        layers = by_id["deep_connectivity/layers"]
        assert layers["judged"] and layers["controls"][0]["pass"] is False
        assert rc == (0 if layers["pass"] else 1)
        assert not by_id["deep_connectivity/fig3d"]["judged"]
        assert not by_id["deep_connectivity/sqrt-n"]["judged"]
        assert all("old_pass" in by_id[f"deep_connectivity/{r}"]
                   for r in ("b-vertices", "b-theorem"))
        assert by_id["deep_connectivity/b-vertices"]["midpoint_forward_vs_interpolated"] < 1e-9
        assert set(by_id["deep_connectivity/b-theorem"]["others"]) == \
            {"B", "straight", "aligned"}
        assert report["seconds"] > 0


@pytest.mark.slow
def test_kuditipudi_quick_rows_checks_and_controls():
    """Quick sizes (scikit-learn digits, no Fashion-MNIST needed): every row, the three
    claims pass with each control failing, the constructions hold to rounding."""
    import json

    pytest.importorskip("torch", reason=TORCH_HINT)
    mod = _script("kuditipudi")
    assert mod.main(["--quick", "--quiet"]) == 0
    report = json.loads((mod.OUT / "kuditipudi_quick.json").read_text())
    by_id = {c["id"]: c for c in report["claims"]}
    claims = {"kuditipudi/dropout-width", "kuditipudi/lemma3", "kuditipudi/theorem3"}
    checks = {"kuditipudi/theorem1-vertices", "kuditipudi/theorem1-bound",
              "kuditipudi/theorem3-vertices"}
    seen = {"kuditipudi/dropout-p", "kuditipudi/straight-line", "kuditipudi/noise-stability"}
    assert set(by_id) == claims | checks | seen
    for key in claims:
        assert by_id[key]["pass"] is True and by_id[key]["check"] is None, by_id[key]
        assert [c["pass"] for c in by_id[key]["controls"]] == [False] * len(
            by_id[key]["controls"]) and by_id[key]["controls"], by_id[key]
        assert "digits stands in" in by_id[key]["claim"]
    for key in checks:
        assert by_id[key]["pass"] is True and by_id[key]["check"], by_id[key]
    assert all(by_id[k]["judged"] is False for k in seen)
    assert by_id["kuditipudi/theorem3"]["n_segments"] == 18
    lo, hi = by_id["kuditipudi/noise-stability"]["rho_median_interval"]
    assert 0 < lo <= by_id["kuditipudi/noise-stability"]["rho"] <= hi
    assert report["seconds"] > 0


@pytest.mark.slow
def test_multilayer_rates_quick_runs_and_reports_every_claim():
    """Quick sizes run end to end; the claims' verdicts are the script's to report."""
    import json

    mod = _script("multilayer_rates")
    mod.main(["--quick", "--quiet"])
    report = json.loads((mod.OUT / "multilayer_rates_quick_A2.json").read_text())
    by_id = {c["id"]: c for c in report["claims"]}
    fixed = {f"multilayer_rates/{c}/fixed-alpha[d={d}]" for c in "ab" for d in (10, 40)}
    scaled = {f"multilayer_rates/{c}/scaled-alpha[d=10]" for c in "ab"}
    assert set(by_id) == fixed | scaled | {"multilayer_rates/c"}
    assert all(by_id[i]["judged"] is False and "old_pass" in by_id[i] for i in fixed)
    assert all(by_id[i]["judged"] is True and "old_pass" in by_id[i] for i in scaled)
    assert np.isfinite(by_id["multilayer_rates/c"]["value"])
    assert np.isfinite(report["ratio_d"]["ratio"]) and report["seconds"] > 0


@pytest.mark.slow
def test_pde_vs_sgd_quick_runs_and_reports_every_claim():
    """Quick sizes run end to end and report every claim; the ReLU particle-limit claim holds
    at M = 1000; the ramp at finite M and SGD at finite N are reported with their old
    verdicts."""
    import json

    mod = _script("pde_vs_sgd")
    mod.main(["--quick", "--quiet"])
    report = json.loads((mod.OUT / "pde_vs_sgd_quick.json").read_text())
    by_id = {c["id"]: c for c in report["claims"]}
    ramps, cases = ("ramp, d = 40", "ramp, d = 20"), ("ramp, d = 40", "relu, d = 40",
                                                     "ramp, d = 20")
    judged = {f"pde_vs_sgd/c[{c}]" for c in cases} | {
        f"pde_vs_sgd/a-extrapolated/ramp[{c}]" for c in ramps}
    reported = {f"pde_vs_sgd/a/ramp[{c}]" for c in ramps} | {f"pde_vs_sgd/b[{c}]" for c in cases}
    assert set(by_id) == judged | reported | {"pde_vs_sgd/a/relu"}
    assert by_id["pde_vs_sgd/a/relu"]["pass"] is True
    assert all(by_id[i]["judged"] is True for i in judged)
    assert all(by_id[i]["judged"] is False and by_id[i]["pass"] is None
               and "old_pass" in by_id[i] for i in reported)
    assert all(np.isfinite(by_id[f"pde_vs_sgd/b[{c}]"]["c_over_N_T"]) for c in cases)
    assert report["seconds"] > 0


@pytest.mark.slow
def test_empirical_depth_and_path_quick_rows_and_controls():
    """Figures 4 and 3 at quick sizes (scikit-learn digits): a judged row per depth and the
    path's row, each passing with its control failing; the paper's rows reported."""
    import json

    pytest.importorskip("torch", reason=TORCH_HINT)
    for name, ids in (("empirical_depth", {f"empirical_depth/{k}[depth={d}]"
                                           for k in ("a", "paper") for d in (2, 3, 4)}),
                      ("empirical_path", {"empirical_path/a", "empirical_path/straight"})):
        mod = _script(name)
        assert mod.main(["--quick", "--quiet"]) == 0
        report = json.loads((mod.OUT / f"{name}_quick.json").read_text())
        by_id = {c["id"]: c for c in report["claims"]}
        assert set(by_id) == ids
        for c in by_id.values():
            if c["judged"]:
                assert c["pass"] is True and c["controls"], c
                assert [x["pass"] for x in c["controls"]] == [False] * len(c["controls"])
