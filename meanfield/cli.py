"""``meanfield`` command line.

Bad input prints one line and exits 2; a diverging run saves the snapshots
it has and exits 1.
"""

from __future__ import annotations

import argparse
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
    p.add_argument("--config", type=Path, help="TOML file with any of the options below "
                                                "(flags given on the command line win)")
    p.add_argument("--out", type=Path, default=Path("runs/couple"), help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    for name, (typ, default, hlp) in COUPLE_OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if typ is bool:
            p.add_argument(flag, action="store_true", default=None, help=hlp)
        else:
            p.add_argument(flag, type=typ, default=None,
                           help=f"{hlp} (default {default})")
    p.set_defaults(func=_couple)


def _settings(args):
    cfg = {k: v[1] for k, v in COUPLE_OPTIONS.items()}
    if args.config is not None:
        try:
            data = tomllib.loads(args.config.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise CLIError(f"--config {args.config}: {e}") from None
        for k, v in data.items():
            if k not in COUPLE_OPTIONS:
                raise CLIError(f"--config: unknown key {k!r}; valid keys: "
                               f"{', '.join(COUPLE_OPTIONS)}")
            typ = COUPLE_OPTIONS[k][0]
            ok = isinstance(v, typ) and not (typ is int and isinstance(v, bool))
            if typ is float and isinstance(v, int) and not isinstance(v, bool):
                v, ok = float(v), True
            if not ok:
                raise CLIError(f"--config: key {k!r} must be {typ.__name__}, got {v!r}")
            cfg[k] = v
    for k in COUPLE_OPTIONS:
        v = getattr(args, k)
        if v is not None:
            cfg[k] = v
    return cfg


def _couple(args):
    from .plotting import risk_curves, save_figure
    from .stepping import DivergenceError
    from .tasks import isotropic_gaussians, teacher_student
    from .twolayer import InitialLaw, run_coupled

    cfg = _settings(args)
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


def build_parser():
    p = argparse.ArgumentParser(prog="meanfield",
                                description="Numerical mean-field theory of neural networks.")
    p.add_argument("--version", action="version", version=f"meanfield {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _couple_parser(sub)
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
