"""The command line explains itself: each subcommand's help lists its own options, each
default once; ``sweep --list`` names the experiments and their keys."""

import argparse
import re

import pytest

from meanfield.cli import _BUILDERS, build_parser, main

COMMANDS = list(_BUILDERS)


def _subparser(command):
    parser = build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def _help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def _flags(text):
    return set(re.findall(r"^  (--[\w-]+)", text, flags=re.MULTILINE))


#: Flags of 'stability' that say nothing about one pair and its paths.
STABILITY_ONLY = {"--Ns", "--seeds", "--times", "--sweep-Ns", "--sweep-sizes", "--sweep-draws",
                  "--half-draws", "--rescaled-draws", "--straight-max-N", "--aligned-max-N"}


def test_path_help_lists_only_the_options_of_a_path(capsys):
    flags = _flags(_help("path", capsys))
    assert not flags & STABILITY_ONLY
    assert flags == {"--out", "--config", "--quiet", "--task", "--d", "--activation",
                     "--width", "--noise-std", "--delta", "--T", "--alpha0", "--law", "--law2",
                     "--a-law", "--n-grid", "--base-seed", "--N", "--pair-seed", "--points",
                     "--data", "--data-sha256"}


def test_path_takes_every_option_of_stability_that_a_pair_depends_on(capsys):
    """A 'stability' config handed to 'path' must not lose a setting of the pair (its
    other keys are ignored): once, --a-law was ignored and the pair started from a
    Gaussian a whatever the config said."""
    path, stability = _flags(_help("path", capsys)), _flags(_help("stability", capsys))
    assert stability - STABILITY_ONLY <= path


def test_each_subcommand_lists_its_own_options(capsys):
    couple, stability = _flags(_help("couple", capsys)), _flags(_help("stability", capsys))
    assert "--M" in couple and "--M" not in stability
    assert STABILITY_ONLY <= stability and not STABILITY_ONLY & couple
    sweep = _flags(_help("sweep", capsys))
    assert {"--list", "--workers", "--plot"} <= sweep and not sweep & (STABILITY_ONLY | {"--N"})


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_each_default_once(command, capsys):
    text = _help(command, capsys)
    flat = " ".join(text.split())  # argparse wraps lines anywhere
    for bad in ("(default None)", "(default: None)", "(default )", "(default: )",
                "(default none) (default"):
        assert bad not in flat
    for action in _subparser(command)._actions:
        hlp = action.help or ""
        assert hlp.count("default") <= 1, (action.option_strings, hlp)
        if isinstance(action, (argparse._HelpAction, argparse._StoreTrueAction,
                               argparse._AppendAction)) or not action.option_strings:
            continue
        if action.dest in ("config", "list") or action.required:
            continue
        if command == "sweep" and action.dest == "out":
            continue  # required: no default to show
        assert hlp.count("default") == 1, (command, action.option_strings, hlp)
        if action.default is not None:
            assert f"default {action.default}" in hlp


def test_help_shows_the_default_out(capsys):
    for command, out in (("couple", "runs/couple/<cell id>:"), ("stability", "runs/stability"),
                         ("path", "runs/path"),
                         ("validate", "validation/out/report.md, or docs/validation/report.md "
                                      "with --full")):
        assert f"(default {out}" in " ".join(_help(command, capsys).split())


def test_sweep_help_names_the_experiments_and_how_to_see_their_keys(capsys):
    from meanfield.experiments import EXPERIMENTS

    text = _help("sweep", capsys)
    for kind in EXPERIMENTS:
        assert re.search(rf"^  {kind} ", text, flags=re.MULTILINE), kind
    assert "meanfield sweep --list KIND" in text
    # the sweep key 'seed' (one value per cell) is told apart from the count --seeds
    assert "'seed' in a sweep is one value per cell" in text and "--seeds 3" in text


def test_sweep_list_prints_the_keys_of_an_experiment(capsys):
    from meanfield.experiments import get_experiment

    assert main(["sweep", "--list", "stability"]) == 0
    out = capsys.readouterr().out
    for key in get_experiment("stability").options:
        assert re.search(rf"^  {key} ", out, flags=re.MULTILINE), key
    assert re.search(r"^  N .*\(default 1600\)$", out, flags=re.MULTILINE)
    assert re.search(r"^  seed .*one value per cell.*\(default 0\)$", out, flags=re.MULTILINE)
    assert re.search(r'^  activation .*\(default "relu"\)$', out, flags=re.MULTILINE)
    assert "(default None)" not in out and "(default )" not in out


def test_sweep_list_without_kind_lists_the_experiments(capsys):
    from meanfield.experiments import EXPERIMENTS

    assert main(["sweep", "--list"]) == 0
    out = capsys.readouterr().out
    named = [line.split()[0] for line in out.splitlines() if line and not line[0].isspace()]
    assert set(named[:len(EXPERIMENTS)]) == set(EXPERIMENTS)


def test_sweep_list_of_an_unknown_kind_is_one_line_exit_2(capsys):
    assert main(["sweep", "--list", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'nope'" in err[0] and "stability, pair_path" in err[0]


def test_sweep_without_config_or_out_is_one_line_exit_2(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out required" in err[0]


def test_sweep_plot_with_one_N_succeeds_and_says_nothing_to_draw(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text('experiment = "couple"\n[fixed]\nd = 3\nM = 20\nT = 0.2\nsnapshots = 2\n'
                   '[grid]\nN = [10]\n')
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "sw"), "--workers", "1",
                 "--quiet", "--plot"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    # the group left out is named with the reason, then the one-line summary
    assert len(err) == 2 and "nothing to draw" in err[1]
    assert "'couple_rates_all' not drawn: a rate needs at least two values of N" in err[0]


def test_sweep_figure_titles_in_words_and_zero_gaps_drawn(tmp_path, monkeypatch):
    """A couple sweep's figure is titled in words (task, activation, d), and a group with a
    gap of exactly 0 is drawn (on the axis, fitted on the means) instead of skipped."""
    import matplotlib.pyplot as plt
    import pandas as pd

    import meanfield.plotting as plotting
    from meanfield.experiments.kinds import _couple_plot

    figs = []
    monkeypatch.setattr(plotting, "save_figure", lambda fig, path: figs.append(fig) or [path])
    rows = [{"cell": f"c{N}-{s}", "N": N, "seed": s, "t": 0.0,
             "risk_gap": 0.0 if (N, s) == (20, 0) else 0.1 / N ** 0.5, "max_dist": 0.1,
             "task": "teacher-student(width=4)", "activation": "erf", "d": 3}
            for N in (10, 20, 40) for s in (0, 1)]
    assert len(_couple_plot(pd.DataFrame(rows), tmp_path)) == 1
    title = figs[0].axes[0].get_title()
    assert title == "SGD vs its limit: teacher-student, teacher width 4, erf, d = 3"
    legend = [t.get_text() for t in figs[0].axes[0].get_legend().get_texts()]
    assert any("1 of 6 runs = 0" in t for t in legend) and any("fit: slope" in t for t in legend)
    plt.close("all")


@pytest.mark.parametrize("command", ["couple", "stability", "path"])
def test_help_examples_are_the_documented_ones(command, capsys):
    """Each command's --help ends with its examples; the same lines are on the command-line
    page, whose examples tests/test_docs_cli.py runs as written."""
    from pathlib import Path

    from meanfield.cli import EXAMPLES

    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    assert EXAMPLES[command]
    for line in EXAMPLES[command]:
        assert f"  {line}" in out and line in page.splitlines()


def test_plot_of_a_missing_folder_says_so(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0] and "holds no sweep" not in err[0]


def test_plot_of_a_couple_folder_points_to_its_own_figure(tmp_path, capsys):
    """`meanfield plot` on a one-run couple folder has no N-figure to draw (exit 1, one
    line), and names the figure the run drew itself."""
    out = tmp_path / "c"
    assert main(["couple", "--N", "20", "--M", "40", "--T", "0.2", "--snapshots", "2",
                 "--d", "3", "--quiet", "--out", str(out)]) == 0
    assert (out / "risk.png").is_file()
    capsys.readouterr()
    assert main(["plot", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "nothing to draw" in err[-1] and f"this run's own figure is risk.png in {out}" \
        in err[-1]


def test_path_figure_is_titled_with_its_pair(tmp_path):
    """path.png names what it shows and the pair's N and d (a new user's figure had no
    title)."""
    from meanfield.experiments import load_results
    from meanfield.plotting.stability import pair_path_figure

    out = tmp_path / "p"
    assert main(["path", "--N", "40", "--T", "0.2", "--points", "5", "--quiet", "--out",
                 str(out)]) == 0
    fig = pair_path_figure(load_results(out))
    title = fig.axes[0].get_title()
    assert title.startswith("Loss along the paths between two trained nets")
    assert "N = 40" in title and "d = " in title
