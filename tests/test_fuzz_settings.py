"""Bad input, fuzzed: random flag values for every command and random sweep configs for every
experiment either validate or end in one line and exit 2 (ConfigError for a config), never
a traceback and never a run with a setting the user did not give."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meanfield.cli import main
from meanfield.experiments import ConfigError, get_experiment, parse_config

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

#: Text a user might type for a value: wrong types, edges, NaN, huge sizes, empty lists.
TEXT = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "3", "nan", "inf", "-inf", "1e308", "1e-320", "",
                     "abc", "3.5", "1,2", ",", "1,,2", "true", "none", "10000000000",
                     "relu", "erf", "rk4", "isotropic", "0.5,0.5,1.5", "-0", "0x10"]),
    st.integers(-10, 10 ** 12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


class _Ran(Exception):
    """Raised in place of the work: the settings were accepted."""


def _stub_work(monkeypatch, seen):
    import meanfield.experiments
    import meanfield.experiments.stability
    import meanfield.twolayer

    def record(name):
        def work(*args, **kwargs):
            seen.append((name, args, kwargs))
            raise _Ran
        return work

    monkeypatch.setattr(meanfield.twolayer, "run_coupled", record("couple"))
    monkeypatch.setattr(meanfield.experiments.stability, "run_stability", record("stability"))
    monkeypatch.setattr(meanfield.experiments, "run_sweep", record("sweep"))


def _flags(command):
    parser = __import__("meanfield.cli", fromlist=["build_parser"]).build_parser(command)
    sub = parser.commands[command]
    return sorted(o for a in sub._actions for o in a.option_strings
                  if o.startswith("--") and o not in ("--help", "--out", "--config", "--quiet",
                                                      "--device"))


@pytest.mark.parametrize("command", ["couple", "stability", "path"])
def test_random_flags_validate_or_exit_2_in_one_line(command, tmp_path_factory, monkeypatch,
                                                     capsys):
    flags = _flags(command)

    @FUZZ
    @given(st.lists(st.tuples(st.sampled_from(flags), TEXT), max_size=4))
    def run(pairs):
        seen = []
        _stub_work(monkeypatch, seen)
        argv = [command, "--out", str(tmp_path_factory.mktemp("o")), "--quiet"]
        for flag, value in pairs:
            argv += [flag, value]
        capsys.readouterr()
        try:
            code = main(argv)
        except SystemExit as e:  # argparse: a value of the wrong type
            code = e.code
        except _Ran:
            code = None
        out, err = capsys.readouterr()
        if code is None:  # accepted: the work starts with the settings given
            assert seen and err == ""
            if command == "couple":  # the runner gets the one cell of the settings given
                _, args, kwargs = seen[0]
                given_N = [v for f, v in pairs if f == "--N"]
                if given_N:
                    assert args[0].cells()[0]["N"] == int(given_N[-1])
            return
        assert code == 2, (argv, code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"meanfield {command}: error: "), err
        assert "Traceback" not in err and not seen
    run()


def _value(typ):
    scalars = st.one_of(st.integers(-5, 10 ** 9), st.floats(allow_nan=True),
                        st.sampled_from(["", "x", "relu", "none", "nan"]), st.booleans())
    return st.one_of(scalars, st.lists(scalars, max_size=3))


@pytest.mark.parametrize("experiment", ["couple", "stability", "pair_path", "multilayer",
                                        "empirical", "empirical_path", "deep_connectivity",
                                        "deep_paths"])
def test_random_sweep_configs_validate_or_raise_config_error(experiment):
    if experiment not in ("couple", "stability", "pair_path", "multilayer"):
        pytest.importorskip("torch", reason="the torch experiments need torch")
    options = get_experiment(experiment).options
    keys = st.one_of(st.sampled_from(sorted(options)), st.sampled_from(["NN", "seeds2", ""]))

    @FUZZ
    @given(st.dictionaries(keys, st.one_of(*[_value(None)]), max_size=4),
           st.dictionaries(keys, st.lists(_value(None), max_size=3), max_size=2),
           st.sampled_from(["fixed", "both", "top"]))
    def run(fixed, grid, shape):
        data = {"experiment": experiment, "fixed": fixed, "grid": grid}
        if shape == "top":
            data["extra"] = 1
        try:
            sweep = parse_config(data, "fuzz")
        except ConfigError as e:
            assert "\n" not in str(e) and str(e).startswith("fuzz")
            return
        for cell in sweep.cells():  # accepted: every cell holds exactly what was given
            for k, v in fixed.items():
                expected = tuple(v) if isinstance(v, list) else v
                if isinstance(expected, float) and isinstance(cell[k], float):
                    assert cell[k] == expected or (math.isnan(expected) and math.isnan(cell[k]))
                elif v is not None:
                    assert cell[k] == expected or cell[k] == float(expected)
    run()
