"""``meanfield`` command line.

Bad input prints one line and exits 2 (``--out`` is checked before any work);
a diverging run saves the snapshots it has and exits 1.  Every file is
written atomically (a temporary file in the same folder, then
``os.replace``), so a run stopped at any moment leaves whole files or none.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from . import _checks
from ._meta import __version__
from .experiments.options import (EXPERIMENT_SUMMARIES, ConfigError, coerce, couple_options,
                                  option_help, renamed_in, stability_options, upgrade_keys)


class _Parser(argparse.ArgumentParser):
    """argparse, with two differences every command needs.

    * No abbreviations (``allow_abbrev=False``): argparse's default took
      ``couple --n 20`` for ``--noise-std 20`` and ran for half a minute with a
      setting the user never gave.  An option is spelt in full or refused.
    * A usage error is one line (``meanfield couple: error: ...``) and exit
      status 2, like every other bad input, not the usage block.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


#: One line per subcommand, for the top-level help.
_HELP = {
    "couple": "coupled SGD / mean-field limit run: table, summary, figure",
    "stability": "dropout stability and connectivity vs N: tables, fits, figures",
    "path": "loss along the seven-segment path and the straight lines (one pair)",
    "sweep": "run a grid of cells (locally or on Dask) into a resumable results folder",
    "plot": "standard figures of a results folder",
    "validate": "run the validation scripts and write a Markdown report",
}


#: Examples in each command's --help; the same lines are on the documentation's command-line
#: page, whose examples the test suite runs (tests/test_docs_cli.py; tests/test_cli_help.py
#: checks that the two agree).
EXAMPLES = {
    "couple": ["meanfield couple --N 50 --M 200 --T 0.5 --snapshots 3 --quiet "
               "--out runs/tiny-couple",
               "meanfield couple --activation erf --task isotropic --N 50 --M 200 --T 0.5 "
               "--snapshots 3 --quiet --out runs/tiny-erf"],
    "stability": ["meanfield stability --Ns 40,80 --seeds 2 --T 0.2 --times 0 --quiet "
                  "--out runs/tiny-stab"],
    "path": ["meanfield path --N 40 --T 0.2 --points 5 --quiet --out runs/tiny-path"],
}


def _examples(command):
    """The ``--help`` epilog of ``command``: its examples, one per line."""
    return "examples (tiny sizes, seconds each):\n" + "\n".join(
        f"  {line}" for line in EXAMPLES[command])


def _described(text):
    """``text`` wrapped for a parser whose epilog keeps its line breaks."""
    import textwrap

    return textwrap.fill(text, 79)


def _out_option(p, default, what="output folder"):
    """``--out``, its default shown in the help."""
    p.add_argument("--out", type=Path, default=Path(default), help=f"{what} (default {default})")


def _check_out(path, flag="--out", file=False):
    """``path``, given to ``flag``, once it is known that the output can be written there.

    Run before any work: an existing file where a folder is wanted (a folder
    where a file is), a file on the way, or a place where this process cannot
    create files (``/proc/x``, a read-only folder) raises ConfigError naming
    the flag.  Nothing is created.
    """
    path = Path(path)
    if file and path.is_dir():
        raise ConfigError(f"{flag} {path}: is a folder; give a file name")
    if not file and path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: exists and is not a folder")
    probe = path.parent if file else path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the nearest existing folder: where the first one is created
    if not probe.is_dir():
        raise ConfigError(f"{flag} {path}: {probe} is not a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".meanfield-probe.", suffix=".tmp")
    except OSError as e:
        raise ConfigError(f"{flag} {path}: cannot create files in {probe} "
                          f"({e.strerror or e})") from None
    os.close(fd)
    os.unlink(tmp)
    return path


def _write(path, data):
    from ._io import atomic_write

    atomic_write(path, data)


def _save_figure(fig, stem):
    """:func:`meanfield.plotting.save_figure`, each file written atomically."""
    from ._io import staged_folder as _staged
    from .plotting import save_figure

    stem = Path(stem)
    with _staged(stem.parent) as tmp:
        names = [p.name for p in save_figure(fig, tmp / stem.name)]
    return [stem.parent / n for n in names]


def _couple_parser(sub):
    p = sub.add_parser("couple", help=_HELP["couple"],
                       description=_described(
                           "Run one-pass SGD and its coupled ideal particles; write "
                           "results.csv (one row per snapshot), summary.json and "
                           "risk.png/.pdf into --out. The run is one cell (experiment "
                           "couple), stored in --out when it is done: the same command "
                           "again reads it back instead of running it."),
                       epilog=_examples("couple"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=None,
                   help=f"output folder (default {_COUPLE_OUT}/<cell id>: a folder per "
                        f"settings, so a run with other flags does not meet this one's)")
    _data_option(p)
    _add_options(p, couple_options())
    p.set_defaults(func=_couple)


def _data_option(p):
    """``--data FILE.npz``: the same as ``--task FILE.npz``, the file's hash filled in."""
    p.add_argument("--data", type=Path, default=None, metavar="FILE.npz",
                   help="run on the empirical law of a data set: an .npz of arrays X (n, d) "
                        "and y (n,), used as given; the same as --task FILE.npz (the cells "
                        "record the file's path and sha256: a changed file is a new run) "
                        "(default: the law --task names)")


def _data_settings(args, cfg, options):
    """``cfg`` with the data task of ``--data FILE.npz`` (or ``--task FILE.npz``) as plain
    settings: ``task`` the file's path and ``data_sha256`` its content's hash (unless given),
    so that the cell's id changes with the file; and, for any data task, ``d`` the data's.
    Checked (the data read) before any work."""
    from .tasks import data_law, file_sha256, is_data_spec

    if getattr(args, "data", None) is not None:
        if cfg["task"] != options["task"][1]:
            raise ConfigError(f"--data and --task {cfg['task']} both name the data law; "
                              f"give one")
        if args.data.suffix != ".npz":
            raise ConfigError(f"--data {args.data}: give an .npz file (numpy.savez(FILE, X=X, "
                              f"y=y) writes one)")
        cfg = {**cfg, "task": str(args.data)}
    if str(cfg["task"]).strip().endswith(".npz") and cfg.get("data_sha256") is None:
        cfg = {**cfg, "data_sha256": file_sha256(cfg["task"])}
    if is_data_spec(cfg["task"]):
        d = data_law(cfg["task"], cfg["activation"], cfg.get("data_sha256")).d
        if cfg["d"] not in (options["d"][1], d):
            raise ConfigError(f"--d {cfg['d']}: task {cfg['task']} has d = {d}, the data's; "
                              f"leave --d out")
        cfg = {**cfg, "d": d}
    return cfg


def _refuse_changed_data(store, sweep):
    """Raise ConfigError when ``store`` holds a run on the same ``.npz`` file as ``sweep`` but
    on other content (the settings' ``data_sha256`` differ): one line saying so, where the
    store would name every differing setting."""
    path = store.folder / "sweep.json"
    try:
        old = json.loads(path.read_text()).get("fixed", {})
    except (OSError, ValueError, AttributeError):
        return
    new = sweep.fixed
    if (new.get("data_sha256") and old.get("task") == new.get("task")
            and old.get("data_sha256") not in (None, new["data_sha256"])):
        raise ConfigError(f"data: {new['task']} has changed since the run stored in "
                          f"{store.folder} (sha256 {old['data_sha256'][:12]}... then, "
                          f"{new['data_sha256'][:12]}... now); restore the file, or give a "
                          f"new --out for the new one")


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


def _add_options(p, options, config_help=""):
    """A flag per option, its help saying its default once (the flags default to None, so
    that a --config value is overridden only by a flag given)."""
    p.add_argument("--config", type=Path, help="TOML file with any of the options below "
                                                "(flags given on the command line win)"
                                                + config_help)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    for name, (typ, default, hlp) in options.items():
        flag = "--" + name.replace("_", "-")
        hlp = option_help(typ, default, hlp)
        if typ is bool:  # on by default: --name and --no-name
            p.add_argument(flag, action=argparse.BooleanOptionalAction if default else
                           "store_true", default=None, help=hlp)
        elif typ in ("ints", "floats"):
            p.add_argument(flag, type=_list_flag(typ), default=None, metavar="LIST", help=hlp)
        else:
            p.add_argument(flag, type=typ, default=None, help=hlp)
    for old in renamed_in(options):  # a flag's old name, for one release (not in --help)
        p.add_argument("--" + old.replace("_", "-"), action="store_true", default=None,
                       help=argparse.SUPPRESS)


def _settings(args, options, ignored=None):
    """The options' values: defaults, then --config's, then the flags given.  Keys of
    ``ignored`` (options of the same file that this command does not use) are checked
    in --config and dropped."""
    ignored = ignored or {}
    cfg = {k: v[1] for k, v in options.items()}
    if args.config is not None:
        source = f"--config {args.config}"
        try:
            data = tomllib.loads(args.config.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{source}: {e}") from None
        data = upgrade_keys(data, options, source)
        for k, v in data.items():
            if k in ignored and k not in options:
                coerce(k, ignored[k][0], v, source)
                continue
            if k not in options:
                raise ConfigError(f"{source}: unknown key {k!r}; valid keys: "
                                  f"{', '.join(options)}")
            cfg[k] = coerce(k, options[k][0], v, source)
    flags = {k: getattr(args, k) for k in [*options, *renamed_in(options)]
             if getattr(args, k) is not None}
    cfg.update(upgrade_keys(flags, options, "flags", flags=True))
    return cfg


def _one_sweep(command, experiment, cfg, options):
    """The sweep of one cell: ``cfg``'s settings (those given by ``options`` that differ
    from their defaults fixed)."""
    from .experiments import parse_config

    fixed = {k: v for k, v in cfg.items() if k in options and v != options[k][1]}
    return parse_config({"experiment": experiment, "fixed": fixed}, f"{command} settings")


def _one_cell(command, experiment, cfg, options, out, quiet):
    """Run the sweep of one cell, ``cfg``'s settings (those given by ``options`` that differ
    from their defaults fixed), into the results folder ``out`` in this process, with
    numba's threads; the cell already stored there is read back instead.  Returns
    ``(store, sweep, report)``; hold ``store.lock()`` around the call and the reading."""
    import numba

    from .experiments import ResultStore, run_sweep

    sweep = _one_sweep(command, experiment, cfg, options)
    store = ResultStore(out)
    _refuse_changed_data(store, sweep)
    _resume_note(command, store, sweep, quiet)
    # a failed cell is not retried: a diverging run would diverge again
    report = run_sweep(sweep, out, workers=1, retries=0, progress=not quiet,
                       threads_per_cell=numba.get_num_threads())
    return store, sweep, report


def _unfinished(command, store, sweep, report, out, what):
    """The exit status of a one-cell run (:func:`_one_cell`) whose cell is not stored, after
    one line on stderr: 130 when it was interrupted (nothing of ``what`` is stored), 1 when
    it failed (the error; what it computed before, e.g. a diverging run's snapshots, copied
    to ``out/partial.csv``).  None when the cell is stored."""
    if report.interrupted:
        print(f"meanfield {command}: interrupted; nothing of {what} is stored in {out} "
              f"yet; run the same command again to start it again", file=sys.stderr)
        return 130
    if not report.failed:
        return None
    from .experiments import cell_id

    err = store.failures()["error"].iloc[0]
    partial = store.failed_dir / f"{cell_id(sweep.experiment, sweep.cells()[0])}.csv"
    if partial.exists():
        _write(out / "partial.csv", partial.read_bytes())
        err += f"; snapshots so far written to {out / 'partial.csv'}"
    else:
        err += f" (see {out / 'failed'})"
    print(f"meanfield {command}: {err}", file=sys.stderr)
    return 1


#: Where ``meanfield couple`` writes without ``--out``: a folder per settings below it.
_COUPLE_OUT = Path("runs/couple")


def _couple(args):
    # first, before the imports: a bad --out answers at once
    out = _check_out(_COUPLE_OUT if args.out is None else args.out)
    from .experiments import ResultStore, cell_id
    from .experiments.kinds import _couple_setup
    from .plotting import risk_curves
    from .twolayer.coupling import CoupleSettings, coupled_config, coupled_summary

    options = couple_options()
    cfg = _data_settings(args, _settings(args, options), options)
    # every check, before any work (a data task is read here: bad data is one line)
    task, N, alpha, T, kwargs = _couple_setup(CoupleSettings(**cfg))
    sweep = _one_sweep("couple", "couple", cfg, options)
    cid = cell_id("couple", sweep.cells()[0])
    if args.out is None:  # one folder per settings: new flags are a new run, not a clash
        out = _check_out(_COUPLE_OUT / cid)
    with ResultStore(out).lock():  # the cell, then the files built from it
        store, sweep, report = _one_cell("couple", "couple", cfg, options, out, args.quiet)
        status = _unfinished("couple", store, sweep, report, out, "this run")
        if status is not None:
            return status
        table = store.load(sweep)
        res = table[[c for c in table.columns if c not in options
                     and c not in ("cell", "w2_exact", "task_description")]]
        _write(out / "results.csv", res.to_csv(index=False))
        config = coupled_config(task, N, kwargs["M"], alpha, T, h=kwargs["h"],
                                method=kwargs["method"], batch_size=kwargs["batch_size"],
                                train_a=kwargs["train_a"], init=kwargs["init"],
                                seed=kwargs["seed"], check_step=kwargs["check_step"])
        s = coupled_summary(res, bool(table["w2_exact"].iloc[0]), config)
        cfg["alpha"], cfg["d"] = alpha, task.d  # the values used
        for k in ("device", "data_sha256"):  # recorded when given, as before they existed
            if cfg[k] is None:
                del cfg[k]
        _write(out / "summary.json", json.dumps({**s, "cli": cfg, "version": __version__},
                                                indent=2, default=str))
        _save_figure(risk_curves(res, config=s), out / "risk")
    print(f"final risk: SGD {s['final_risk_sgd']:.5g}, limit {s['final_risk_limit']:.5g}; "
          f"sup risk gap {s['sup_risk_gap']:.3g}, sup max distance {s['sup_max_dist']:.3g}, "
          f"sup W2 {s['sup_w2']:.3g}")
    _say_step_check(s, kwargs)
    print(f"wrote {out}/results.csv, summary.json, risk.png")
    return 0


def _say_step_check(summary, kwargs):
    """One line on the limit's step check: on stdout when h is resolved, on stderr with
    what to do when it is not (the run's numbers then measure the integrator as much as
    the limit)."""
    h = kwargs["h"]
    if "step_resolved" not in summary:
        if kwargs["check_step"]:  # a cell stored before the check existed
            print(f"meanfield couple: the limit's step h = {h:g} was not checked (this run "
                  f"was stored before the check)", file=sys.stderr)
        return
    what = (f"halving it changes R(rho_t) by {summary['sup_step_risk_change']:.2g} and "
            f"moves a particle by {summary['sup_step_move']:.2g}")
    if summary["step_resolved"]:
        print(f"limit step h = {h:g}: resolved ({what})")
    else:
        chk = summary["check_step"]
        print(f"meanfield couple: warning: the limit's step h = {h:g} is not resolved: {what} "
              f"(tolerances {chk['risk_tol']:g} and {chk['move_tol']:g}); the limit's numbers "
              f"are the integrator's as much as the limit's: run again with a smaller --h "
              f"(meanfield.twolayer.resolved_step finds one by halving)", file=sys.stderr)


def _stability_config(args, extra=(), keys=None):
    """StabilityConfig from ``args``, and the values of the ``extra`` options; with
    ``keys``, only those of its fields are options (--config ignores the others)."""
    from .twolayer.experiment import StabilityConfig

    options = stability_options()
    ignored = {}
    if keys is not None:
        ignored = {k: v for k, v in options.items() if k not in keys}
        options = {k: options[k] for k in keys}
    options.update(extra)
    cfg = _data_settings(args, _settings(args, options, ignored), options)
    rest = {k: cfg.pop(k) for k in dict(extra)}
    return StabilityConfig(**cfg), rest


def _stability_parser(sub):
    p = sub.add_parser(
        "stability", help=_HELP["stability"], epilog=_examples("stability"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_described(
                    "Train pairs of two-layer networks by SGD over a grid of N and seeds; "
                    "measure eps_D (|A| = N/2 at several times, and a sweep over |A|), eps_C "
                    "of the seven-segment path and the straight-line barriers. Writes "
                    "dropout.csv, paths.csv, summary.json and the figures dropout_vs_n, "
                    "dropout_vs_size (with --sweep-Ns) and connectivity_vs_n into --out. "
                    "Each finished cell is stored in --out as it finishes (a sweep results "
                    "folder): run the same command again to resume a stopped run; more "
                    "--Ns or --seeds run only the new cells."))
    _out_option(p, "runs/stability")
    _data_option(p)
    _add_options(p, stability_options())
    p.set_defaults(func=_stability)


def _resume_note(command, store, sweep, quiet):
    """Say how much of the run is stored already (and so is not run again)."""
    done, total = len(store.finished(sweep)), len(sweep.cells())
    if quiet or not done:
        return
    if done == total == 1:  # a one-cell command (couple, path) run again
        print(f"meanfield {command}: this run is stored in {store.folder} already (the same "
              f"settings): reading it back, not running it again", file=sys.stderr)
    else:
        print(f"meanfield {command}: {done} of {total} cells already in {store.folder}; "
              f"running the other {total - done}", file=sys.stderr)


def _stability(args):
    out = _check_out(args.out)
    from .experiments import ResultStore
    from .experiments.stability import run_stability, save_stability, stability_sweep

    cfg, _ = _stability_config(args)
    sweep = stability_sweep(cfg)
    store = ResultStore(out)
    with store.lock():  # the cells, then the tables built from them
        _refuse_changed_data(store, sweep)
        _resume_note("stability", store, sweep, args.quiet)
        res = run_stability(cfg, progress=not args.quiet, folder=out)
        summary, written = save_stability(res, out)
    fits = summary.get("fits", {})
    if fits:
        n_values = len(cfg.Ns)
        print("log-log slopes in N, [95% interval] (Shevchenko & Mondelli, Theorem 1: eps_D "
              "at |A| = N/2 and eps_C fall like N^(-1/2) up to logarithms when alpha ~ 1/N)"
              + (f"; only {n_values} values of N, so the intervals are wide"
                 if n_values < 4 else ""))
    for name, f in fits.items():
        print(f"{name:>18}: slope {f['slope']:+.3f} [{f['ci_low']:+.3f}, {f['ci_high']:+.3f}]")
    if written:
        print("wrote " + ", ".join(str(p) for p in written))
    if not res.complete:
        n = res.paths[["N", "seed"]].drop_duplicates().shape[0] if len(res.paths) else 0
        print(f"meanfield stability: interrupted; {n} of {len(sweep.cells())} cells are "
              f"stored in {out}; run the same command again to resume", file=sys.stderr)
        return 130
    if len(res.failed):
        print(f"meanfield stability: {len(res.failed)} cell(s) diverged or raised; see "
              f"{out / 'failed.csv'} (they run again next time)", file=sys.stderr)
        return 1
    return 0


#: The fields of StabilityConfig that one trained pair and its paths depend on.
_PATH_KEYS = ("task", "d", "activation", "width", "noise_std", "delta", "T", "alpha0", "law",
              "law2", "a_law", "n_grid", "base_seed", "data_sha256")

_PATH_EXTRA = {"N": (int, 1600, "width of the two networks"),
               "pair_seed": (int, 0, ("which pair to connect: the pair index (seed) of a "
                                      "'stability' cell, 0..SEEDS-1")),
               "points": (int, 33, "points per segment in the dense evaluation")}


def _path_parser(sub):
    p = sub.add_parser(
        "path", help=_HELP["path"], epilog=_examples("path"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_described("Train one pair of networks (as a cell of 'stability'), build the "
                    "seven-segment path through a random half A and the two straight-line "
                    "baselines, evaluate the exact loss densely along each; writes "
                    "path.csv, summary.json and path.png/.pdf into --out. The pair and its "
                    "three paths are one cell, stored in --out when it is done: the same "
                    "command again reads it back instead of running it."))
    _out_option(p, "runs/path")
    _data_option(p)
    options = stability_options()
    _add_options(p, {**{k: options[k] for k in _PATH_KEYS}, **_PATH_EXTRA},
                 config_help="; a 'stability' config serves too: its other keys (Ns, seeds, "
                             "times, sweep_Ns, ...) are checked and ignored")
    p.set_defaults(func=_path)


def _path(args):
    out = _check_out(args.out)
    from .experiments import ResultStore, get_experiment
    from .plotting import pair_path_figure

    cfg, extra = _stability_config(args, _PATH_EXTRA, keys=_PATH_KEYS)
    N = _checks.positive_int("N", extra["N"])
    if N < 2:
        raise ConfigError(f"N must be >= 2 to drop half of the neurons, got {N}")
    points = _checks.positive_int("points", extra["points"])
    seed = _checks.nonneg_int("pair_seed", extra["pair_seed"])
    # one cell (experiment pair_path): the pair is trained once for its three paths
    settings = {**cfg.to_dict(), "N": N, "seed": seed, "points": points}
    with ResultStore(out).lock():
        store, sweep, report = _one_cell("path", "pair_path", settings,
                                         get_experiment("pair_path").options, out, args.quiet)
        status = _unfinished("path", store, sweep, report, out, "this pair")
        if status is not None:
            return status
        table = store.load(sweep)
        _write(out / "path.csv", table.loc[table["kind"] == "dense", ["path", "s", "loss"]]
               .to_csv(index=False))
        vert = table[(table["path"] == "seven") & (table["kind"] == "vertex")]
        vl = vert["loss"].to_numpy(float)

        def barrier(name):
            return float(table.loc[(table["path"] == name) & (table["kind"] == "barrier"),
                                   "loss"].iloc[0])

        summary = {"N": N, "vertices": dict(zip(vert["label"], vl.tolist())),
                   "eps_C": barrier("seven"),
                   "eps_D_max": max(abs(vl[1] - vl[0]), abs(vl[3] - vl[-1])),
                   "dense_max": {k: float(g["loss"].max()) for k, g in
                                 table[table["kind"] == "dense"].groupby("path", sort=False)},
                   "barrier_straight": barrier("straight"),
                   "barrier_aligned": barrier("aligned"),
                   "config": cfg.to_dict(), "version": __version__}
        _write(out / "summary.json", json.dumps(summary, indent=2, default=str))
        _save_figure(pair_path_figure(table), out / "path")
    print(f"eps_C {summary['eps_C']:.3g} (eps_D max {summary['eps_D_max']:.3g}); "
          f"straight-line barrier {summary['barrier_straight']:.3g}, aligned "
          f"{summary['barrier_aligned']:.3g}")
    print(f"wrote {out / 'path.csv'}, {out / 'summary.json'}, {out / 'path.png'}, "
          f"{out / 'path.pdf'}")
    return 0


_SWEEP_EXAMPLE = """\
example CONFIG (9 cells, one per N and seed):
  experiment = "stability"
  [fixed]                 # settings of every cell
  d = 20
  [grid]                  # one cell per combination of these values
  N = [100, 200, 400]
  seed = [0, 1, 2]

'seed' in a sweep is one value per cell (the pair index, for 'stability'):
grid it for several seeds. It is not a count like 'meanfield stability
--seeds 3', which runs the pairs 0, 1 and 2.
"""


def _kinds_table(indent=""):
    """The experiments, one per entry, their lines wrapped to 79 columns."""
    import textwrap

    width = max(map(len, EXPERIMENT_SUMMARIES)) + 2
    return "\n".join(textwrap.fill(line, 79, initial_indent=f"{indent}{name:<{width}}",
                                    subsequent_indent=" " * (len(indent) + width),
                                    break_on_hyphens=False)
                      for name, line in EXPERIMENT_SUMMARIES.items())


def _sweep_epilog():
    return (f"experiments (the key 'experiment' of CONFIG):\n{_kinds_table('  ')}\n\n"
            f"'meanfield sweep --list KIND' prints the keys of KIND (what [fixed] and\n"
            f"[grid] may set), with their defaults and meaning.\n\n{_SWEEP_EXAMPLE}")


def _sweep_parser(sub):
    import textwrap

    description = ("Run every cell of the sweep CONFIG (a TOML file naming the experiment, its "
                   "fixed settings and its grid) and store one table per finished cell in "
                   "--out. Running again on the same folder skips finished cells.")
    p = sub.add_parser("sweep", help=_HELP["sweep"], description=textwrap.fill(description),
                       usage="%(prog)s CONFIG --out OUT [options]\n"
                             "       %(prog)s --list [KIND]",
                       epilog=_sweep_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=Path, nargs="?", help="sweep config (TOML)")
    p.add_argument("--out", type=Path, default=None, help="results folder (required)")
    p.add_argument("--list", nargs="?", const="", default=None, metavar="KIND",
                   help="print the keys of experiment KIND with their defaults and meaning "
                        "(without KIND: the experiments) and exit")
    p.add_argument("--workers", type=int, default=None,
                   help="local Dask workers (default: cores / threads-per-cell; 1 runs the "
                        "cells in this process)")
    p.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 (default: "
                        "a local cluster)")
    p.add_argument("--threads-per-cell", type=int, default=1,
                   help="numba threads in each cell (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--plot", action="store_true",
                   help="draw the standard figures into OUT/figures when the sweep is done")
    p.set_defaults(func=_sweep)


def _list_keys(kind):
    """``meanfield sweep --list [KIND]``: the experiments, or the keys of one."""
    if not kind:
        print(_kinds_table())
        print("\n'meanfield sweep --list KIND' prints the keys of KIND.")
        return 0
    if kind not in EXPERIMENT_SUMMARIES:
        raise ConfigError(f"--list: unknown experiment {kind!r}; valid: "
                          f"{', '.join(EXPERIMENT_SUMMARIES)}")
    from .experiments import get_experiment

    options = get_experiment(kind).options
    kinds = {"ints": "list of int", "floats": "list of float"}
    rows = [(k, kinds.get(typ) or typ.__name__, option_help(typ, default, hlp, toml=True))
            for k, (typ, default, hlp) in options.items()]
    w0, w1 = (max(len(r[i]) for r in rows) + 2 for i in (0, 1))
    print(f"experiment = \"{kind}\": {EXPERIMENT_SUMMARIES[kind]}")
    print("keys of [fixed] (one value) and [grid] (a list of values, one cell each):")
    for key, typ, hlp in rows:
        print(f"  {key:<{w0}}{typ:<{w1}}{hlp}")
    return 0


def _sweep(args):
    if args.list is not None:
        return _list_keys(args.list)
    missing = [name for name, v in (("CONFIG", args.config), ("--out", args.out)) if v is None]
    if missing:
        raise ConfigError(f"{' and '.join(missing)} required (or --list [KIND] to see the "
                          f"experiments and their keys)")
    _check_out(args.out)
    if args.plot:
        _check_out(args.out / "figures", flag="figures folder")
    from .experiments import load_config, run_sweep

    sweep = load_config(args.config)
    report = run_sweep(sweep, args.out, workers=args.workers, scheduler=args.scheduler,
                       threads_per_cell=args.threads_per_cell, progress=not args.quiet)
    print(f"meanfield sweep: {report}; results in {args.out}")
    if report.interrupted:
        print("meanfield sweep: interrupted; run the same command again to resume",
              file=sys.stderr)
        return 130
    if report.failed:
        print(f"meanfield sweep: {report.failed} cell(s) failed twice; see "
              f"{args.out / 'failed'}", file=sys.stderr)
        return 1
    if args.plot:
        _figures(args.out, "sweep")  # nothing to draw is said, and is no failure of the sweep
    else:
        _notes(args.out, sweep)
    return 0


def _notes(folder, sweep):
    """Print, one line each, what the experiment's ``notes`` say of the stored results
    (couple: cells run at an unresolved step); ``plot`` prints them with the figures."""
    from .experiments import ResultStore, get_experiment

    notes = get_experiment(sweep.experiment).notes
    if notes is not None:
        _saying("sweep", lambda: notes(ResultStore(folder).load_tables(sweep)))


def _saying(command, fn):
    """``fn()``, each warning it raised printed as one line ``meanfield COMMAND: ...`` on
    stderr (never silent, never a traceback's worth)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    for w in caught:
        print(f"meanfield {command}: {w.message}", file=sys.stderr)
    return result


def _plot_parser(sub):
    p = sub.add_parser("plot", help=_HELP["plot"],
                       description="Draw the standard figures of the experiment stored in "
                                   "FOLDER (one set per combination of the settings that "
                                   "vary, other than N and seed) into FOLDER/figures.")
    p.add_argument("folder", type=Path, help="results folder of a sweep (its --out)")
    p.set_defaults(func=_plot)


def _figures(folder, command):
    """Draw the standard figures of ``folder`` into ``folder/figures``; the files written
    (none: said in one line on stderr)."""
    from .experiments import ResultStore, get_experiment

    if not Path(folder).is_dir():
        raise ConfigError(f"{folder} does not exist or is not a folder (give the --out of a "
                          f"sweep, stability or path run)")
    store = ResultStore(folder)
    sweep = store.sweep()
    _check_out(folder / "figures", flag="figures folder")
    experiment = get_experiment(sweep.experiment)

    def draw():  # the store's notes, the experiment's, then any figure group left out
        tables = store.load_tables()
        if all(t.empty for t in tables.values()):
            return None
        if experiment.notes is not None:
            experiment.notes(tables)
        return experiment.plot(tables, folder / "figures")

    written = _saying(command, draw)
    if written is None:
        raise ConfigError(f"{folder} holds no finished cells yet")
    if written:
        print("wrote " + ", ".join(str(p) for p in written))
    else:
        # a one-cell command (couple, path) draws its own figure into the folder itself
        own = sorted(p.name for p in Path(folder).glob("*.png"))
        print(f"meanfield {command}: no figures: nothing to draw (figures of "
              f"{sweep.experiment!r} need at least two values of N)"
              + (f"; this run's own figure is {own[0]} in {folder}" if own else ""),
              file=sys.stderr)
    return written


def _plot(args):
    return 0 if _figures(args.folder, "plot") else 1


def _validate_parser(sub):
    p = sub.add_parser("validate", help=_HELP["validate"],
                       description="Run each script in validation/ (quick sizes unless --full) "
                                   "and write a report with one row per claim.")
    p.add_argument("--full", action="store_true",
                   help="the full sizes (hours on two cores; the report goes to "
                        "docs/validation/report.md unless --out is given, and the data behind "
                        "it, each script's result and cell tables, to data.tar.xz beside it)")
    p.add_argument("--out", type=Path, default=None,
                   help="report file (default validation/out/report.md, or "
                        "docs/validation/report.md with --full); the claims' figures are "
                        "copied into figures/ beside it")
    p.add_argument("--only", action="append", default=None,
                   help="run only this script (name without .py); repeatable")
    p.add_argument("--reuse", action="store_true",
                   help="tabulate a script's stored result instead of running it again "
                        "(a stopped run goes on where it stopped)")
    p.add_argument("--jobs", type=int, default=None,
                   help="scripts run side by side, each with its share of the cores as "
                        "threads (default: the number of cores)")
    p.add_argument("--allow-dirty", action="store_true",
                   help="let --full run on a tree with uncommitted changes (the report then "
                        "says so); without it a full run refuses such a tree")
    p.add_argument("--task", default=None,
                   help="run the scripts that take a data law (data_limit: SGD against its "
                        "limit, eps_D and eps_C in N) on this one: digits[:I,J], "
                        "fashion-mnist[:I,J] or FILE.npz (X (n, d), y (n,) in [-1, 1]); the "
                        "report goes to validation/out/report-<task>.md unless --out is given "
                        "(default: none, every script on its own data)")
    p.add_argument("--device", default=None,
                   help="torch device (cpu, cuda, cuda:K) for the scripts that take one "
                        "(data_limit, empirical_depth, empirical_path, kuditipudi, "
                        "pde_vs_sgd); the others run on the CPU (default: none, every "
                        "script on the CPU)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_validate)


def _validate(args):
    from .validation_report import _task_slug, run_validation

    if args.out is None and args.task is not None:  # never over the published report
        slug = _task_slug(args.task)
        args.out = Path(f"validation/out/report-{slug}{'-full' if args.full else ''}.md")
    if args.out is None:
        args.out = Path("docs/validation/report.md" if args.full else "validation/out/report.md")
    _check_out(args.out, file=True)
    report, ok = run_validation(full=args.full, out=args.out, only=args.only, reuse=args.reuse,
                                jobs=args.jobs, progress=not args.quiet,
                                allow_dirty=args.allow_dirty, task=args.task,
                                device=args.device)
    print(report)
    print(f"wrote {args.out}")
    return 0 if ok else 1


_BUILDERS = {"couple": _couple_parser, "stability": _stability_parser, "path": _path_parser,
             "sweep": _sweep_parser, "plot": _plot_parser, "validate": _validate_parser}


def build_parser(command=None):
    """The command line's parser; with ``command``, only that subcommand gets its
    options (the others are listed by name and help), so that ``meanfield
    --help`` does not import the modules whose settings the options mirror."""
    p = _Parser(prog="meanfield",
                                description="Numerical mean-field theory of neural networks.")
    p.add_argument("--version", action="version", version=f"meanfield {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, build in _BUILDERS.items():
        if command is None or command == name:
            build(sub)
        else:
            sub.add_parser(name, help=_HELP[name])
    p.commands = sub.choices
    return p


def _command(argv):
    """The subcommand named in ``argv`` ('' when none is)."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(argv))
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the subcommand's parser, so that the line names the command
        parser.commands.get(args.command, parser).error(
            f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ValueError as e:  # includes ConfigError
        print(f"meanfield {args.command}: error: {e}", file=sys.stderr)
        return 2


def _entry():
    """Console entry point: Ctrl-C at any moment (during the imports too) ends
    with one line and exit status 130, not a traceback."""
    try:
        return main()
    except KeyboardInterrupt:
        command = _command(sys.argv[1:])
        resumes = command in ("stability", "path", "sweep")  # they write through the store
        print(f"\nmeanfield {command}: interrupted".replace(" :", ":")
              + ("; run the same command again to resume" if resumes else ""), file=sys.stderr)
        return 130


def _module_entry():
    """``python -m meanfield`` and ``python -m meanfield.cli``: as :func:`_entry`,
    with the exit status kept after a Ctrl-C inside ``exec``'d code."""
    from ._signals import forget_handled_interrupt

    code = _entry()
    forget_handled_interrupt()
    return code


if __name__ == "__main__":
    sys.exit(_module_entry())
