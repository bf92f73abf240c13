"""The rules that judge the validation claims: code and docs/validation.md say the same."""

import re
from pathlib import Path

import pytest

from meanfield.analysis.claims import KINDS, RULES, Rule, claim_row, control_row, verdict

DOC = Path(__file__).resolve().parents[1] / "docs" / "validation.md"


def _doc_rules():
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"^\| `([^`]+)` \| (\w+) \| (.*) \| (.*) \|$", line)
        if m:
            cells = [c.replace("\\|", "|") for c in m.groups()]
            rows[cells[0]] = tuple(cells[1:])
    return rows


def test_docs_list_every_rule_in_the_same_words():
    doc = _doc_rules()
    assert set(doc) == set(RULES), (f"only in docs: {sorted(set(doc) - set(RULES))}; "
                                    f"only in code: {sorted(set(RULES) - set(doc))}")
    for key, rule in RULES.items():
        assert doc[key] == (rule.kind, rule.assumptions, rule.text), key


def test_beyond_the_assumptions_is_never_judged():
    for key, rule in RULES.items():
        if rule.assumptions.startswith("beyond"):
            assert not rule.judged, key
        if "/relu" in key and not key.startswith("pde_vs_sgd"):
            assert rule.assumptions.startswith("beyond"), key


@pytest.mark.parametrize("kind,limit,value,interval,expect", [
    ("upper_rate", -0.35, -0.8, (-1.0, -0.36), True),
    ("upper_rate", -0.35, -0.5, (-0.7, -0.34), False),  # upper end above -0.35
    ("upper_rate", -0.35, -0.9, (-1.2, -0.6), True),    # steeper than -1/2 still passes
    ("lower_rate", 0.35, 0.5, (0.36, 0.7), True),
    ("lower_rate", 0.35, 0.5, (0.34, 0.7), False),      # lower end below 0.35
    ("lower_rate", 0.35, 1.0, (0.8, 1.2), True),        # a faster fall as alpha -> 0 passes
    ("decay", 0.0, -0.2, (-0.4, -0.01), True),
    ("decay", 0.0, -0.2, (-0.4, 0.0), False),
    ("equivalence", 0.15, 0.0, (-0.14, 0.14), True),
    ("equivalence", 0.15, 0.0, (-0.3, 0.3), False),     # a wide interval is not evidence
    ("reaches", 1.0, 1.2, (0.99, 1.5), True),
    ("reaches", 1.0, 1.6, (1.01, 2.0), False),
    ("bounded", 1.5, 1.0, (0.8, 1.3), True),
    ("bounded", 1.5, 1.0, (0.5, 2.0), False),           # no growth seen, but a wide interval
    ("bounded", 1.5, 0.6, (0.4, 0.9), True),            # a fall with d is no growth
    ("at_most", 1.0, 1.0, None, True),
    ("at_most", 1.0, 1.0 + 1e-12, None, False),
    ("rounding", 1e-9, 5e-10, None, True),
    ("rounding", 1e-9, 2e-9, None, False),
    ("upper_rate", -0.35, -0.5, (float("nan"), -0.5), False),
    ("at_most", 1.0, float("nan"), None, False),
])
def test_rule_kinds(kind, limit, value, interval, expect):
    assert Rule(kind, limit, "inside", "t").judge(value, interval) is expect


def test_rows_and_verdict():
    judged = claim_row("dropout_rates/a/erf", "eps_D ~ N^-1/2", "SM (3.7)", -0.5, (-0.7, -0.3),
                       case="t=1")
    seen = claim_row("dropout_rates/a/relu", "eps_D slope", "SM (3.7)", 0.2, (0.1, 0.3))
    assert judged["id"] == "dropout_rates/a/erf[t=1]" and judged["pass"] is False
    assert judged["tightness"] == "interval contains -0.50"
    assert seen["pass"] is None and not seen["judged"]
    assert verdict([seen]) and not verdict([seen, judged])
    with pytest.raises(ValueError, match="kind must be one of"):
        Rule("two_sided", 1.0, "inside", "t")
    with pytest.raises(ValueError, match="observation has no limit"):
        Rule("observation", 1.0, "inside", "t")
    assert set(KINDS) >= {r.kind for r in RULES.values()}


def test_tightness_is_reported_for_rates_in_n_whatever_the_claim_says():
    """Tightness against -1/2 belongs to a slope for which the paper gives that exponent:
    the ReLU eps_D rate (reported, beyond A3) has it, the slope at fixed |A| (where no
    decay in N is expected) does not, whether or not the claim's words say "slope"."""
    rate = claim_row("dropout_rates/a/relu", "relu: eps_D at |A| = N/2", "SM (3.7)", -0.46,
                     (-0.50, -0.42))
    fixed = claim_row("dropout_rates/b/relu", "relu: eps_D at |A| = 25: slope in N",
                      "SM (3.7)", 0.02, (-0.04, 0.08))
    ratio = claim_row("multilayer_rates/c", "eps_D(160) / eps_D(10)", "SM (4.4)", 1.17,
                      (0.89, 1.52))
    assert rate["tightness"] == "interval contains -0.50"
    assert "tightness" not in fixed and "tightness" not in ratio
    assert {k for k, r in RULES.items() if r.rate and r.kind == "observation"} == {
        "sgd_vs_limit/relu", "sgd_vs_limit/coupling/relu", "dropout_rates/a/relu",
        "dropout_rates/c/relu", "multilayer_rates/a/fixed-alpha", "multilayer_rates/b/fixed-alpha"}


def test_a_claim_whose_control_passes_fails():
    """A control runs the claim's rule where the behaviour is absent: it must FAIL, and a
    claim whose control passes is not evidence, so it fails too."""
    failing = control_row("sgd_vs_limit/erf", "fixed alpha", 0.02, (-0.2, 0.25))
    passing = control_row("sgd_vs_limit/erf", "fixed alpha", -0.6, (-0.8, -0.4))
    assert failing["pass"] is False and passing["pass"] is True
    good = claim_row("sgd_vs_limit/erf", "gap", "MMM", -0.5, (-0.6, -0.4), controls=[failing])
    assert good["pass"] is True and good["controls"] == [failing]
    bad = claim_row("sgd_vs_limit/erf", "gap", "MMM", -0.5, (-0.6, -0.4), controls=[passing])
    assert bad["pass"] is False and bad["control_passed"]
    # an observation's control is reported without a verdict and changes nothing
    seen = claim_row("sgd_vs_limit/relu", "gap", "MMM", -0.5, (-0.6, -0.4),
                     controls=[control_row("sgd_vs_limit/relu", "fixed alpha", -0.6,
                                           (-0.8, -0.4))])
    assert seen["pass"] is None and seen["controls"][0]["pass"] is None
