"""``meanfield`` command line.

Bad input prints one line and exits 2; a diverging run saves the snapshots
it has and exits 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from . import __version__, _checks

# name: (type, default, help)
COUPLE_OPTIONS = {
    "task": (str, "teacher-student", "teacher-student | isotropic"),
    "d": (int, 20, "input dimension"),
    "activation": (str, "relu", "student activation: relu, erf, tanh, sigmoid, softplus, ramp"),
    "width": (int, 4, "teacher width (teacher-student)"),
    "delta": (float, 0.5, "class separation (isotropic), in [0, 1)"),
    "noise_std": (float, 0.0, "label noise standard deviation (teacher-student)"),
    "N": (int, 500, "neurons of the SGD network"),
    "M": (int, 2000, "reference particles carrying rho_t"),
    "alpha": (float, None, "SGD step size (default 1/N)"),
    "T": (float, 2.0, "horizon t = k alpha"),
    "h": (float, 0.05, "limit time step"),
    "method": (str, "rk4", "limit integrator: euler, heun, rk4"),
    "batch_size": (int, 1, "SGD mini-batch size"),
    "frozen_a": (bool, False, "freeze output weights"),
    "snapshots": (int, 21, "number of snapshots in [0, T]"),
    "a_mean": (float, 0.0, "initial a ~ N(a_mean, a_std^2)"),
    "a_std": (float, 1.0, "initial a ~ N(a_mean, a_std^2)"),
    "w_std": (float, 1.0, "initial w ~ N(0, w_std^2 / d I)"),
    "seed": (int, 0, "seed for weights, population and data"),
}


class CLIError(ValueError):
    pass


def _couple_parser(sub):
    p = sub.add_parser("couple", help="coupled SGD / mean-field limit run: table, summary, figure",
                       description="Run one-pass SGD and its coupled ideal particles; write "
                                   "results.csv (one row per snapshot), summary.json and "
                                   "risk.png/.pdf into --out.")
    p.add_argument("--out", type=Path, default=Path("runs/couple"), help="output folder")
    _add_options(p, COUPLE_OPTIONS)
    p.set_defaults(func=_couple)


def _coerce(name, typ, v, source):
    """Check a TOML value ``v`` against an option type; returns the value to use."""
    if typ in ("ints", "floats"):
        ok = isinstance(v, list) and all(
            isinstance(x, int if typ == "ints" else (int, float)) and not isinstance(x, bool)
            for x in v)
        if not ok:
            raise CLIError(f"{source}: key {name!r} must be a list of "
                           f"{'integers' if typ == 'ints' else 'numbers'}, got {v!r}")
        return tuple(v)
    if typ is float and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
        raise CLIError(f"{source}: key {name!r} must be {typ.__name__}, got {v!r}")
    return v


def _list_flag(typ):
    conv = int if typ == "ints" else float

    def parse(text):
        try:
            return tuple(conv(x) for x in text.split(",") if x.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {'integers' if conv is int else 'numbers'}, "
                f"got {text!r}") from None
    return parse


def _add_options(p, options):
    p.add_argument("--config", type=Path, help="TOML file with any of the options below "
                                                "(flags given on the command line win)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    for name, (typ, default, hlp) in options.items():
        flag = "--" + name.replace("_", "-")
        if typ is bool:
            p.add_argument(flag, action="store_true", default=None, help=hlp)
        elif typ in ("ints", "floats"):
            shown = ",".join(map(str, default)) if default is not None else "none"
            p.add_argument(flag, type=_list_flag(typ), default=None, metavar="LIST",
                           help=f"{hlp} (default {shown})")
        else:
            p.add_argument(flag, type=typ, default=None, help=f"{hlp} (default {default})")


def _settings(args, options):
    cfg = {k: v[1] for k, v in options.items()}
    if args.config is not None:
        source = f"--config {args.config}"
        try:
            data = tomllib.loads(args.config.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise CLIError(f"{source}: {e}") from None
        for k, v in data.items():
            if k not in options:
                raise CLIError(f"--config: unknown key {k!r}; valid keys: "
                               f"{', '.join(options)}")
            cfg[k] = _coerce(k, options[k][0], v, "--config")
    for k in options:
        v = getattr(args, k)
        if v is not None:
            cfg[k] = v
    return cfg


def _couple(args):
    from .plotting import risk_curves, save_figure
    from .stepping import DivergenceError
    from .tasks import isotropic_gaussians, teacher_student
    from .twolayer import InitialLaw, run_coupled

    cfg = _settings(args, COUPLE_OPTIONS)
    if cfg["task"] == "teacher-student":
        task = teacher_student(cfg["d"], cfg["activation"], width=cfg["width"],
                               noise_std=cfg["noise_std"])
    elif cfg["task"] == "isotropic":
        task = isotropic_gaussians(cfg["d"], cfg["delta"], cfg["activation"])
    else:
        raise CLIError(f"--task must be 'teacher-student' or 'isotropic', got {cfg['task']!r}")
    alpha = cfg["alpha"] if cfg["alpha"] is not None else 1.0 / _checks.positive_int("N", cfg["N"])
    cfg["alpha"] = alpha
    init = InitialLaw(cfg["a_mean"], cfg["a_std"], cfg["w_std"])
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    try:
        res = run_coupled(task, cfg["N"], alpha, cfg["T"], M=cfg["M"], init=init,
                          n_snapshots=cfg["snapshots"], h=cfg["h"], method=cfg["method"],
                          batch_size=cfg["batch_size"], train_a=not cfg["frozen_a"],
                          seed=cfg["seed"], progress=not args.quiet)
    except DivergenceError as e:
        import pandas as pd
        part = e.partial
        pd.DataFrame({"t": part.times, "step": part.steps, "risk": part.risk}).to_csv(
            out / "partial.csv", index=False)
        print(f"meanfield couple: {e}; snapshots so far written to {out / 'partial.csv'}",
              file=sys.stderr)
        return 1
    res.to_frame().to_csv(out / "results.csv", index=False)
    s = res.summary()
    (out / "summary.json").write_text(json.dumps({**s, "cli": cfg, "version": __version__},
                                                 indent=2, default=str))
    save_figure(risk_curves(res), out / "risk")
    print(f"final risk: SGD {s['final_risk_sgd']:.5g}, limit {s['final_risk_limit']:.5g}; "
          f"sup risk gap {s['sup_risk_gap']:.3g}, sup max distance {s['sup_max_dist']:.3g}, "
          f"sup W2 {s['sup_w2']:.3g}")
    print(f"wrote {out / 'results.csv'}, {out / 'summary.json'}, {out / 'risk.png'}")
    return 0


_STABILITY_HELP = {
    "task": "teacher-student | isotropic",
    "d": "input dimension",
    "activation": "student activation: relu, erf, tanh, sigmoid, softplus, ramp",
    "width": "teacher width (teacher-student)",
    "noise_std": "label noise standard deviation (teacher-student)",
    "delta": "class separation (isotropic), in [0, 1)",
    "Ns": "network widths N",
    "seeds": "pairs of networks per N",
    "T": "horizon t = k alpha",
    "alpha0": "SGD step alpha = alpha0 / N",
    "times": "fractions of T at which eps_D is measured (1 is always added)",
    "law": "a_mean,a_std,w_std of theta's initial law",
    "law2": "a_mean,a_std,w_std of theta''s initial law (none: same as law)",
    "sweep_Ns": "widths at which eps_D is swept over |A|",
    "sweep_sizes": "the |A| of the sweep",
    "sweep_draws": "nested subset chains per network in the sweep",
    "half_draws": "independent A of size N/2 per network and time",
    "rescaled_draws": "subsets tried by the rescaled (Kuditipudi) dropout; 0 skips it",
    "straight_max_N": "largest N with the straight-line baseline",
    "aligned_max_N": "largest N with the aligned straight-line baseline (O(N^3))",
    "n_grid": "interior points searched on a straight line before refining the maximum",
    "seed": "base seed of every cell",
}


def _stability_options():
    from .twolayer.stability import StabilityConfig

    out = {}
    for f in dataclasses.fields(StabilityConfig):
        default = f.default
        if f.name in ("law", "law2", "times"):
            typ = "floats"
        elif isinstance(default, tuple):
            typ = "ints"
        else:
            typ = type(default)
        out[f.name] = (typ, default, _STABILITY_HELP[f.name])
    return out


def _stability_config(args, extra=()):
    from .twolayer.stability import StabilityConfig

    options = _stability_options()
    options.update(extra)
    cfg = _settings(args, options)
    rest = {k: cfg.pop(k) for k in dict(extra)}
    return StabilityConfig(**cfg), rest


def _stability_parser(sub):
    p = sub.add_parser(
        "stability", help="dropout stability and connectivity vs N: tables, fits, figures",
        description="Train pairs of two-layer networks by SGD over a grid of N and seeds; "
                    "measure eps_D (|A| = N/2 at several times, and a sweep over |A|), eps_C "
                    "of the seven-segment path and the straight-line barriers. Writes "
                    "dropout.csv, paths.csv, summary.json and the figures dropout_vs_n, "
                    "dropout_vs_size (with --sweep-Ns) and connectivity_vs_n into --out.")
    p.add_argument("--out", type=Path, default=Path("runs/stability"), help="output folder")
    _add_options(p, _stability_options())
    p.set_defaults(func=_stability)


def _fit_dict(fit):
    return {"slope": fit.slope, "ci_low": fit.ci_low, "ci_high": fit.ci_high,
            "intercept": fit.intercept, "level": fit.level}


def write_stability(res, out):
    """Tables, summary and figures of a :class:`StabilityResult` into folder ``out``."""
    import numpy as np

    from .analysis import connectivity_shape
    from .plotting import connectivity_vs_n, dropout_vs_n, dropout_vs_size, save_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    res.dropout.to_csv(out / "dropout.csv", index=False)
    res.paths.to_csv(out / "paths.csv", index=False)
    if len(res.failed):
        res.failed.to_csv(out / "failed.csv", index=False)
    summary = {"config": res.config, "version": __version__, "complete": res.complete,
               "failed_cells": len(res.failed)}
    written = [out / "dropout.csv", out / "paths.csv", out / "summary.json"]
    if res.dropout.empty or res.dropout["N"].nunique() < 2:
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        return summary, written
    fits = res.fits()
    bounds = res.bound_fits()
    summary["fits"] = {k: _fit_dict(f) for k, f in fits.items()}
    summary["bound_K"] = {k: {"K_fit": b.K_fit, "K_envelope": b.K_envelope}
                          for k, b in bounds.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    figs = {"dropout_vs_n": dropout_vs_n(res.per_network(), fits)}
    sweep = res.per_network("sweep")
    if not sweep.empty:
        figs["dropout_vs_size"] = dropout_vs_size(sweep)
    pairs = res.per_pair()
    Ns = np.unique(pairs["N"])
    grid = np.geomspace(Ns.min(), Ns.max(), 50)
    shape = connectivity_shape(grid, res.config["alpha0"] / grid, res.config["d"] + 1)
    figs["connectivity_vs_n"] = connectivity_vs_n(pairs, fits,
                                                  bound=(grid, bounds["eps_C"].K_fit * shape))
    for name, fig in figs.items():
        written += save_figure(fig, out / name)[:1]
    return summary, written


def _stability(args):
    from .twolayer.stability import run_stability

    cfg, _ = _stability_config(args)
    res = run_stability(cfg, progress=not args.quiet)
    summary, written = write_stability(res, args.out)
    for name, f in summary.get("fits", {}).items():
        print(f"{name:>18}: slope {f['slope']:+.3f} [{f['ci_low']:+.3f}, {f['ci_high']:+.3f}]")
    print("wrote " + ", ".join(str(p) for p in written))
    if len(res.failed):
        print(f"meanfield stability: {len(res.failed)} cell(s) diverged; see "
              f"{args.out / 'failed.csv'}", file=sys.stderr)
        return 1
    if not res.complete:
        print("meanfield stability: interrupted; the cells finished so far are written",
              file=sys.stderr)
        return 130
    return 0


_PATH_EXTRA = {"N": (int, 1600, "width of the two networks"),
               "pair_seed": (int, 0, "which pair (cell seed) to connect"),
               "points": (int, 33, "points per segment in the dense evaluation")}


def _path_parser(sub):
    p = sub.add_parser(
        "path", help="loss along the seven-segment path and the straight lines (one pair)",
        description="Train one pair of networks (same options as 'stability'), build the "
                    "seven-segment path through a random half A and the two straight-line "
                    "baselines, evaluate the exact loss densely along each; writes "
                    "path.csv, summary.json and path.png/.pdf into --out.")
    p.add_argument("--out", type=Path, default=Path("runs/path"), help="output folder")
    _add_options(p, {**_stability_options(), **_PATH_EXTRA})
    p.set_defaults(func=_path)


def _path(args):
    import pandas as pd

    from .plotting import path_profile, save_figure
    from .twolayer.stability import connect_pair

    cfg, extra = _stability_config(args, _PATH_EXTRA)
    N = _checks.positive_int("N", extra["N"])
    if N < 2:
        raise CLIError(f"N must be >= 2 to drop half of the neurons, got {N}")
    points = _checks.positive_int("points", extra["points"])
    paths = connect_pair(cfg, N, _checks.nonneg_int("pair_seed", extra["pair_seed"]),
                         progress=not args.quiet)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    frames = []
    for name in ("seven", "straight", "aligned"):
        s_, f = paths[name].dense(points, closed_form=False)
        frames.append(pd.DataFrame({"path": name, "s": s_ / paths[name].n_segments,
                                    "loss": f}))
    pd.concat(frames).to_csv(out / "path.csv", index=False)
    seven = paths["seven"]
    vl = seven.vertex_losses()
    eps_D = max(abs(vl[1] - vl[0]), abs(vl[3] - vl[-1]))
    fig = path_profile(seven, points, others=[("straight line", paths["straight"]),
                                              ("aligned straight line", paths["aligned"])],
                       eps_D=eps_D)
    save_figure(fig, out / "path")
    summary = {"N": N, "vertices": dict(zip(seven.labels, vl.tolist())),
               "eps_C": seven.barrier(), "eps_D_max": eps_D,
               "dense_max": {fr["path"].iloc[0]: float(fr["loss"].max()) for fr in frames},
               "barrier_straight": paths["straight"].barrier(n_grid=cfg.n_grid),
               "barrier_aligned": paths["aligned"].barrier(n_grid=cfg.n_grid),
               "config": cfg.to_dict(), "version": __version__}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"eps_C {summary['eps_C']:.3g} (eps_D max {eps_D:.3g}); straight-line barrier "
          f"{summary['barrier_straight']:.3g}, aligned {summary['barrier_aligned']:.3g}")
    print(f"wrote {out / 'path.csv'}, {out / 'summary.json'}, {out / 'path.png'}")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="meanfield",
                                description="Numerical mean-field theory of neural networks.")
    p.add_argument("--version", action="version", version=f"meanfield {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _couple_parser(sub)
    _stability_parser(sub)
    _path_parser(sub)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ValueError as e:  # includes CLIError
        print(f"meanfield {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
