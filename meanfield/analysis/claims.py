"""How a validation claim is judged: the rules, written once, and the row a claim becomes.

Every claim of the validation scripts (``validation/*.py``) has an id in
:data:`RULES`, whose :class:`Rule` says in words and in code how it is
judged.  ``docs/validation.md`` lists the same ids with the same words (a
test compares them), so the criterion a verdict rests on is written down
before the run that judges it.

The kinds of rule follow what the papers state:

* ``upper_rate``: a rate the theorem gives as an upper bound, "X = O(N^-1/2)
  up to logarithms", passes when the upper end of the slope's 95% interval is
  at most the limit (-0.35).  Whether the slope sits near -1/2 is tightness,
  reported beside the verdict, not judged.
* ``lower_rate``: the mirror of ``upper_rate`` for a quantity bounded by a
  positive power of a small parameter, "X = O(alpha^(1/2))" as alpha -> 0:
  passes when the lower end of the slope's 95% interval is at least the limit
  (0.35).
* ``decay``: "X decreases with N" (an empirical statement without a rate):
  the upper end of the slope's interval is below 0.
* ``equivalence``: "X does not depend on N": the whole interval of the slope
  lies inside ``[-margin, margin]``; failing to detect a slope is not enough.
* ``reaches``: "X does not grow": the lower end of the interval of a ratio is
  at most the limit (1).  It passes when growth goes undetected, so no claim
  uses it since 2026-12-07.
* ``bounded``: "X does not grow beyond a margin": the upper end of the
  interval of a ratio is at most the limit; a noisy run fails.
* ``at_most``: a point value (a maximum ratio to a bound, a relative
  difference) is at most the limit.
* ``rounding``: a construction that holds exactly, judged to rounding: the
  relative deviation is at most the tolerance (1e-9).
* ``observation``: reported, not judged: a setting beyond a theorem's
  assumptions, or a bound with a term that does not vanish there.

References
----------
.. [1] A. Shevchenko and M. Mondelli, "Landscape connectivity and dropout
   stability of SGD solutions for over-parameterized neural networks",
   ICML 2020, Theorems 1-2, eqs. (3.7)-(3.8), (4.4)-(4.5).
.. [2] S. Mei, T. Misiakiewicz and A. Montanari, "Mean-field theory of
   two-layers neural networks: dimension-free bounds and kernel limit",
   COLT 2019, Theorem 1.
.. [3] S. S. Du, J. D. Lee, H. Li, L. Wang and X. Zhai, "Gradient descent
   finds global minima of deep neural networks", ICML 2019, Theorems 5.1, 6.1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KINDS = ("upper_rate", "lower_rate", "decay", "equivalence", "reaches", "bounded", "at_most",
         "rounding", "observation")


@dataclass(frozen=True)
class Rule:
    """The criterion of one claim.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    limit : float, optional
        The threshold of the kind (the slope's upper end for ``upper_rate``,
        the margin for ``equivalence``, the tolerance for ``rounding``, ...).
    assumptions : str
        ``"inside"`` when the setting satisfies the theorem's assumptions, or
        ``"beyond: <why>"``.
    text : str
        The criterion in words, as ``docs/validation.md`` states it.
    check : str, optional
        Why the row is a *check*, not a claim: it could not fail for the reason
        the paper's claim is interesting (a construction that holds by the
        lemmas, a sanity gate of ours, a bound that is vacuous at the step
        used).  A failing check is a bug; a passing one is no evidence for the
        paper, so the report counts checks apart from claims.
    rate : bool
        The interval is that of a log-log slope in N for which the paper gives
        the exponent -1/2 (as a bound, or for a setting beyond its assumptions):
        the row then reports its *tightness* beside the verdict.  Default: True
        for ``upper_rate`` and ``decay``, False otherwise (a slope at fixed
        ``|A|``, where no decay in N is expected, is not a rate).
    """

    kind: str
    limit: float | None
    assumptions: str
    text: str
    rate: bool | None = None
    check: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if (self.kind == "observation") != (self.limit is None):
            raise ValueError("an observation has no limit and every other kind has one")
        if not (self.assumptions == "inside" or self.assumptions.startswith("beyond: ")
                or self.assumptions.startswith("setting: ")):
            raise ValueError("assumptions must be 'inside', 'beyond: ...' or 'setting: ...'")
        if self.rate is None:
            object.__setattr__(self, "rate", self.kind in ("upper_rate", "decay"))

    @property
    def judged(self) -> bool:
        return self.kind != "observation"

    def judge(self, value=None, interval=None):
        """``True``/``False`` for a judged rule, ``None`` for an observation.

        ``upper_rate``, ``decay``, ``equivalence``, ``reaches`` and ``bounded`` need the
        ``(low, high)`` interval; ``at_most`` and ``rounding`` the value.  A
        missing or non-finite input fails a judged rule.
        """
        if not self.judged:
            return None
        if self.kind in ("at_most", "rounding"):
            return value is not None and math.isfinite(value) and value <= self.limit
        if interval is None or not all(v is not None and math.isfinite(v) for v in interval):
            return False
        lo, hi = interval
        if self.kind == "upper_rate":
            return hi <= self.limit
        if self.kind == "lower_rate":
            return lo >= self.limit
        if self.kind == "decay":
            return hi < self.limit
        if self.kind == "equivalence":
            return -self.limit <= lo and hi <= self.limit
        if self.kind == "bounded":
            return hi <= self.limit
        return lo <= self.limit  # reaches


def tightness(interval, target=-0.5):
    """Whether a slope's interval contains the rate's exponent, in words (not judged)."""
    if interval is None:
        return ""
    lo, hi = interval
    return (f"interval contains {target:+.2f}" if lo <= target <= hi
            else f"interval {'below' if hi < target else 'above'} {target:+.2f}")


def control_row(claim_id, control, value=None, interval=None):
    """A claim's rule applied to its negative control: the same pipeline where the
    claimed behaviour is absent by design.  It must FAIL (``pass`` False).

    Parameters
    ----------
    claim_id : str
        The claim's key of :data:`RULES`.
    control : str
        What the control changes, in words (e.g. "SGD at a fixed alpha = 0.05").
    value, interval
        As for :func:`claim_row`.
    """
    rule = RULES[claim_id]
    return {"control": control, "value": value,
            "interval": None if interval is None else [float(v) for v in interval],
            "pass": rule.judge(value, interval)}


def add_controls(row, controls):
    """Attach rows of :func:`control_row` to the claim ``row`` (from :func:`claim_row`), for a
    control computed after its claim.  A rule that also passes where the behaviour is absent
    cannot tell: a judged claim with a passing control fails (``control_passed``)."""
    row["controls"] = list(controls)
    if row["judged"] and any(c["pass"] for c in controls):
        row["pass"] = False
        row["control_passed"] = True
    return row


def claim_row(claim_id, claim, paper, value=None, interval=None, figure=None, case=None,
              controls=None, **extra):
    """The report row of a claim, judged by its rule in :data:`RULES`.

    Parameters
    ----------
    claim_id : str
        A key of :data:`RULES`.
    claim, paper : str
        The claim in words and the paper and equation it comes from.
    value : float, optional
        The measured value.
    interval : (float, float), optional
        Its 95% interval.
    figure : str, optional
        The figure that shows it.
    controls : list of dict, optional
        Rows of :func:`control_row`.  A judged claim whose control passes its
        rule is reported as failed (``control_passed``): the rule could not
        tell the behaviour from its absence.
    case : str, optional
        The case of a rule that several rows share (a time, a dimension, a
        task): the row's id is ``claim_id[case]``.

    Returns
    -------
    dict
        ``id, claim, paper, assumptions, criterion, value, interval, judged,
        pass`` (``None`` when not judged), ``figure`` and ``extra``'s keys;
        rows of a rule with ``rate`` get ``tightness``.
    """
    rule = RULES[claim_id]
    row = {"id": claim_id if case is None else f"{claim_id}[{case}]", "claim": claim,
           "paper": paper, "assumptions": rule.assumptions,
           "criterion": rule.text, "value": value,
           "interval": None if interval is None else [float(v) for v in interval],
           "judged": rule.judged, "pass": rule.judge(value, interval), "figure": figure}
    row["check"] = check_reason(row["id"])
    if controls:
        add_controls(row, controls)
    if rule.rate:
        row["tightness"] = tightness(interval)
    row.update(extra)
    return row


#: Rows that are checks although their rule judges claims in its other cases.
CHECK_CASES = {
    "dropout_rates/a/erf[t=0]": (
        "t = 0: the neurons are i.i.d. at initialisation, so the N^-1/2 is the central "
        "limit theorem, not what Theorem 1 adds"),
}


def check_reason(row_id):
    """Why the report row ``row_id`` (``claim_id`` or ``claim_id[case]``) is a check, or
    None for a claim of a paper (or an observation)."""
    if row_id in CHECK_CASES:
        return CHECK_CASES[row_id]
    rule = RULES.get(row_id.split("[")[0])
    return None if rule is None or not rule.judged else rule.check


def verdict(claims):
    """Whether every judged claim passed (observations do not count)."""
    return all(c["pass"] for c in claims if c.get("judged", True))


_RELU = "beyond: ReLU is not bounded and differentiable (assumption A3)"
# pde_vs_sgd runs ReLU and the ramp, neither differentiable: outside the assumptions of the
# limit theorem (as sgd_vs_limit/relu is), yet a numerical comparison of the same dynamics
_PDE = ("setting: ReLU and the ramp are not differentiable (outside assumption A3 of Mei, "
        "Montanari & Nguyen's limit theorem, as for sgd_vs_limit/relu); the rows compare "
        "discretisations of one PDE (radial solver, particles, SGD), which does not rest on A3")
_UPPER = "upper end of the slope's 95% interval <= -0.35"


def _upper(assumptions="inside"):
    return Rule("upper_rate", -0.35, assumptions, _UPPER)


_KUDITIPUDI = ("setting: fully connected ReLU nets on Fashion-MNIST (quick mode: scikit-learn "
               "digits), not the paper's conv nets on MNIST or VGG-11 on CIFAR-10")


_FIG34 = ("setting: two- to four-layer ReLU nets on Fashion-MNIST (quick mode: scikit-learn "
          "digits), step alpha for a fixed number of epochs at every N, not Section 5's "
          "MNIST and CIFAR-10 with alpha0 / N for k0 N epochs")
_NGUYEN_DEEP = ("setting: fully connected ReLU nets on Fashion-MNIST, shallower and narrower "
                "than the paper's (MNIST: L = 11, width 245; CIFAR-10: L = 6, width 500), on a "
                "subset of the training set")
#: Figure 4's width sweep and Figure 3 d's pair: the data and the draws differ from the paper's
_NGUYEN_SWEEP = ("setting: two-hidden-layer ReLU nets on Fashion-MNIST, not the paper's MNIST "
                 "and CIFAR-10; the claim names the training images and the best-of draws of "
                 "A and B (the paper: every image, T_A = 20, T_B = 200, as --full runs)")
_NGUYEN_PAIR = ("setting: one pair of four-hidden-layer ReLU nets on Fashion-MNIST, not the "
                "paper's CIFAR-10 FCN (L = 6, width 500)")


def _seen(assumptions, text="reported, not judged", rate=False):
    return Rule("observation", None, assumptions, text, rate)


RULES = {
    # Mei, Misiakiewicz & Montanari, Theorem 1 (used in Shevchenko & Mondelli's proof)
    "sgd_vs_limit/erf": _upper(),
    "sgd_vs_limit/relu": _seen(_RELU, rate=True),
    # the quantity the coupling proof bounds: max_i |theta_i^k - thetabar_i(k alpha)|
    "sgd_vs_limit/coupling/erf": _upper(),
    "sgd_vs_limit/coupling/relu": _seen(_RELU, rate=True),
    # its sqrt(alpha (D + log N)) term at fixed N: alpha = 0.001 ... 0.05 (4/N ... 200/N)
    "sgd_vs_limit/alpha/erf": Rule(
        "lower_rate", 0.35, "inside",
        "lower end of the 95% interval of the coupling distance's slope in alpha (fixed N, "
        "alpha = 0.001 ... 0.05) >= 0.35"),
    "sgd_vs_limit/alpha/relu": _seen(_RELU),
    # the same two quantities on a real data set's empirical law (any data law qualifies)
    "data_limit/risk": _upper(),
    "data_limit/coupling": _upper(),
    # Shevchenko & Mondelli (3.7)-(3.8) on the same data: eps_D at |A| = N/2 at time T and
    # eps_C of the seven-segment path, alpha = 1/N (set 2026-12-07, before any run)
    "data_limit/dropout": _upper(),
    "data_limit/connectivity": _upper(),
    # Shevchenko & Mondelli Theorem 1: (3.7) eps_D, (3.8) eps_C, with alpha = 1/N
    # erf only: tanh and sigmoid have no closed-form kernel (quadrature, 180-450x erf's cost)
    "dropout_rates/a/erf": _upper(),
    "dropout_rates/a/relu": _seen(_RELU, rate=True),
    **{f"dropout_rates/b/{a}": Rule(
        "equivalence", 0.15, "inside",
        "95% interval of the slope of eps_D in N at fixed |A| inside [-0.15, 0.15]")
       for a in ("erf",)},
    "dropout_rates/b/relu": _seen(_RELU),
    "dropout_rates/c/erf": _upper(),
    # (3.7)'s first term in |A| at fixed N: sqrt(log|A| / |A|), a local slope -0.38 over
    # |A| = 25 ... 200, so a bound-shaped decay passes
    "dropout_rates/e/erf": Rule(
        "upper_rate", -0.35, "inside",
        "upper end of the 95% interval of the slope of eps_D in |A| at the largest N of the "
        "|A| sweep <= -0.35", rate=False),
    "dropout_rates/e/relu": _seen(_RELU),
    "dropout_rates/c/relu": _seen(_RELU, rate=True),
    # 1.5 = 16^0.15 (rounded down): the equivalence margin of a slope (0.15) over the 16-fold
    # step from d = 10 to 160; the bound's own shape grows by 6% over it
    "dropout_rates/d/erf": Rule(
        "bounded", 1.5, "inside",
        "upper end of the 95% interval of eps_D(d = 160) / eps_D(d = 10) <= 1.5 (16^0.15)"),
    # Shevchenko & Mondelli Theorem 2, (4.4)-(4.5)
    "multilayer_rates/a/fixed-alpha": _seen(
        "beyond: alpha = 0.1 is fixed, so the sqrt(alpha) term of (4.4) does not vanish",
        rate=True),
    "multilayer_rates/b/fixed-alpha": _seen(
        "beyond: alpha = 0.1 is fixed, so the sqrt(alpha) term of (4.5) does not vanish",
        rate=True),
    "multilayer_rates/a/scaled-alpha": _upper(),
    "multilayer_rates/b/scaled-alpha": _upper(),
    # Theorem 2(A): (4.4)'s first term (sqrt(d) + z) / sqrt(A_min) at fixed N
    "multilayer_rates/e/scaled-alpha": Rule(
        "upper_rate", -0.35, "inside",
        "upper end of the 95% interval of the slope of eps_D in A_min at N = 800 <= -0.35",
        rate=False),
    "multilayer_rates/c": _seen(
        "beyond: alpha = 0.1 is fixed, so the sqrt(alpha) term of (4.4) does not vanish",
        "reported beside the shape of (4.4)'s first term, (sqrt(160) + z) / (sqrt(10) + z): "
        "4.00 at z = 0, 3.28 at z = 1"),
    # Du et al. Definitions 5.1/6.1, Theorems 5.1/6.1; Chizat et al. (lazy training)
    **{f"lazy_gram/a/{n}": _upper() for n in ("fc", "resnet", "conv-resnet")},
    **{f"lazy_gram/b/{n}": Rule(
        "at_most", 1.0, "inside",
        "max over k <= 100 of L(k) / ((1 - eta lambda_min / 2)^k L(0)) <= 1, at "
        "eta = lambda_min(K) / n^2 (Theorem 5.1's order)",
        check="near-vacuous: at this step the bound falls by 2e-7 (FC) and 1e-9 (ResNet) of "
              "L(0) over 100 steps, and k = 0 gives 1 by definition, so the row checks that "
              "the loss does not rise") for n in ("fc", "resnet")},
    **{f"lazy_gram/b-large/{n}": _seen(
        "beyond: eta = 1 / lambda_max exceeds the step of Theorem 5.1")
       for n in ("fc", "resnet")},
    # Du et al. Section 4: the residuals follow (I - eta H(0))^k r(0) as m grows
    "lazy_gram/d/ntk": Rule(
        "upper_rate", -0.35, "setting: m <= 6400, far below the width Theorem 5.1 asks "
        "(m = Omega(n^4 / lambda_min^4)); what is measured is the mechanism of its proof, the "
        "kernel staying at its initial value", _UPPER),
    # Du et al. Theorems 5.1 vs 6.1: width exponential in H for FC, polynomial for the
    # ResNet, seen through lambda_min(K^(H)) (deterministic: the kernel recursion)
    "lazy_gram/e/fc": Rule(
        "at_most", 0.5, "inside",
        "largest ratio lambda_min(K^(H+1)) / lambda_min(K^(H)) over H = 2 ... 11 <= 0.5 "
        "(a fall by at least 2x per layer)"),
    "lazy_gram/c/ntk": _upper(),
    "lazy_gram/c/mf": Rule("equivalence", 0.15, "inside",
                           "95% interval of the movement's slope in m inside [-0.15, 0.15]"),
    # Shevchenko & Mondelli Section 5 (empirical)
    "empirical_dropout/a": Rule(
        "decay", 0.0, "setting: alpha = 0.2 for 3 epochs, not Section 5's alpha0 / N for "
        "k0 N epochs (--paper-schedule)",
        "upper end of the 95% interval of the slope in N < 0"),
    "empirical_dropout/b": Rule(
        "at_most", 0.15, "setting: alpha = 0.2 for 3 epochs, not Section 5's alpha0 / N for "
        "k0 N epochs (--paper-schedule)",
        "full-network test error at the largest N (mean over seeds) <= 0.15",
        check="a sanity gate of ours (the nets compared are accurate); the paper's claim is "
              "an MNIST error under 2%"),
    "empirical_dropout/fig2-intermediate": _seen(
        "setting: alpha = 0.2 for 3 epochs, not Section 5's alpha0 / N for k0 N epochs "
        "(--paper-schedule)", "reported beside the paper's Figure 2"),
    "empirical_dropout/fig1-error": _seen(
        "setting: Fashion-MNIST stands in for MNIST; alpha = 0.2 for 3 epochs",
        "reported beside the paper's Figure 1 (MNIST: under 2% full, about 3% dropout)"),
    # Shevchenko & Mondelli Section 5, Figure 4 (two, three and four layers) and Figure 3
    "empirical_depth/a": Rule(
        "decay", 0.0, _FIG34,
        "upper end of the 95% interval of the log-log slope in N of |change in test error| "
        "after dropping half of every hidden layer, at the end of training, < 0 (per depth)"),
    "empirical_depth/paper": _seen(
        _FIG34, "reported beside the paper's Figure 4 at N = 12800 (MNIST: +0.35% two "
                "layers, +0.4% three; CIFAR-10: +1% three, +3.6% four)"),
    "empirical_path/a": Rule(
        "at_most", 1e-9, _FIG34,
        "max test error along the dropout path (|A| = N/2, bimodal- to Gaussian-initialised "
        "net) - (max end error + max dropout change in test error) <= 1e-9 (0 to rounding), "
        "worst pair"),
    "empirical_path/straight": _seen(
        _FIG34, "reported: the straight line's largest test error above the ends (the paper "
                "shows no straight line)"),
    # Nguyen, Brechet & Mondelli, Figure 4 and Theorem 4.1
    "deep_connectivity/a": Rule(
        "at_most", 0.25, _NGUYEN_SWEEP,
        "smallest width with Experiment A within 10% of the trained loss <= 1/4 of "
        "Experiment B's (B's taken as beyond the sweep when never within 10%)"),
    "deep_connectivity/b-vertices": Rule(
        "rounding", 1e-9, "inside",
        "max along the Theorem 4.1 path / max at its vertices - 1 <= 1e-9 (by construction)",
        check="a construction: the path's loss peaks at its vertices by the theorem's proof"),
    "deep_connectivity/b-theorem": Rule(
        "at_most", 1.0 + 1e-9, "inside",
        "max training loss along the Theorem 4.1 path / the theorem's bound <= 1 + 1e-9 "
        "(both evaluated in float64)",
        check="a construction: the path's vertices are the bound's terms"),
    # Nguyen, Brechet & Mondelli, Figure 3 (a)-(c): Experiment A per layer of one deep FCN,
    # several trained nets; its control is Experiment B's numbers under the same rule
    "deep_connectivity/layers": Rule(
        "at_most", 1.1, _NGUYEN_DEEP,
        "mean over the trained nets of max over layers l of A_l / L(theta') <= 1.1 "
        "(Experiment A's bound within 10% of the trained loss at every layer)"),
    "deep_connectivity/fig3d": _seen(
        _NGUYEN_PAIR, "reported: max training loss along paths A (Theorem 4.1) and B (dropout) "
                  "between one pair, beside the paper's Figure 3 d (path A near the trained "
                  "loss, path B a large loss)"),
    "deep_connectivity/sqrt-n": _seen(
        _NGUYEN_DEEP, "reported: log-log slope in N (training samples) of the smallest width "
                      "with Experiment A within 10% of the trained loss, beside Corollary "
                      "4.3's 1/2"),
    # Kuditipudi et al. 2019: Definition 1, Lemmas 1-3, Theorems 1 and 3
    "kuditipudi/dropout-width": Rule(
        "decay", 0.0, _KUDITIPUDI,
        "upper end of the 95% interval of the slope in h of the best-of-20 training-loss "
        "change at p = 1/2 < 0"),
    "kuditipudi/lemma3": Rule(
        "at_most", 0.2, _KUDITIPUDI,
        "lower quartile over Algorithm 1's draws (p = 0.2) of (max training loss along "
        "the straight segment from theta to theta_1 - L(theta)) / (ln C - L(theta)) <= 0.2"),
    "kuditipudi/theorem3": Rule(
        "at_most", 0.2, _KUDITIPUDI,
        "(max training loss along the path through theta* - max(L(theta_A), L(theta_B))) "
        "/ (ln C - max(L(theta_A), L(theta_B))) <= 0.2"),
    "kuditipudi/theorem1-vertices": Rule(
        "rounding", 1e-9, "inside",
        "max training loss on a grid of every segment of the Lemma 1 + Lemma 2 path / its "
        "max at the vertices - 1 <= 1e-9 (forward passes, float64)",
        check="a construction: every segment moves the top layer only or keeps the "
              "network function, so the loss peaks at a vertex by Lemmas 1 and 2"),
    "kuditipudi/theorem1-bound": Rule(
        "at_most", 1.0 + 1e-9, "inside",
        "max training loss along the Lemma 1 + Lemma 2 path / (max(L(theta_A), L(theta_B)) "
        "+ eps), eps the measured dropout stability of the pair <= 1 + 1e-9 (float64)",
        check="a construction: the path's vertices are the two nets and their dropout "
              "networks, whose losses eps bounds by Definition 1"),
    "kuditipudi/theorem3-vertices": Rule(
        "rounding", 1e-9, "inside",
        "max training loss on a grid of the Lemma 2 segments of the path through theta* / "
        "max(L(theta_A1), L(theta*), L(theta_B1)) - 1 <= 1e-9 (forward passes, float64)",
        check="a construction: Lemma 2's segments keep the network function or move only "
              "the top layer"),
    "kuditipudi/dropout-p": _seen(_KUDITIPUDI, "reported: best-of-20 loss change against p "
                                  "at the pair's width (their Figure 2 left)"),
    "kuditipudi/straight-line": _seen(_KUDITIPUDI, "reported beside the paper's 2.34 and 10% "
                                      "accuracy (VGG-11, CIFAR-10)"),
    "kuditipudi/noise-stability": _seen(
        _KUDITIPUDI, "reported: Definitions 2-4 per layer as distributions (their Figure 3 "
                     "left)"),
    # Mei, Montanari & Nguyen 2018: the radial PDE
    # ReLU with a = 1 frozen: the risk falls by 0.93% of R(0) over the whole run, less than
    # the 1% tolerance, so the PDE at rest passed the at_most 0.01 rule (2026-12-07 control)
    "pde_vs_sgd/a/relu": _seen(
        _PDE, "reported: the ReLU risk falls by 0.93% of R(0) over the run, less than a 1% "
        "tolerance (the PDE at rest passed the former rule at_most 0.01)"),
    "pde_vs_sgd/a/ramp": _seen(_PDE, "reported: the M-particle flow carries an M-neuron "
                               "net's O(1/M) term, about 10-40% of the risk at CPU sizes"),
    "pde_vs_sgd/a-extrapolated/ramp": Rule(
        "at_most", 0.01, _PDE,
        "sup relative gap of PDE and particle risk extrapolated in M after 5% of T <= 0.01"),
    "pde_vs_sgd/a-extrapolated-quick/ramp": _seen(
        _PDE, "reported: at quick sizes (M <= 200) the fit L_inf + c / M is not yet "
        "asymptotic to 1%"),
    "pde_vs_sgd/b": _seen(_PDE, "reported with its O(1/N) term: SGD at one finite N"),
    "pde_vs_sgd/c/relu": _seen(
        _PDE, "reported: the ReLU risk moves by 0.93% of R(0) over the run, so the PDE at rest "
        "passed the former rule of pde_vs_sgd/c"),
    "pde_vs_sgd/c": Rule(
        "at_most", 1.0, _PDE,
        "|L_inf - PDE| / (0.01 PDE + 3 test-sample SE) <= 1, L_inf of SGD extrapolated in N"),
}
