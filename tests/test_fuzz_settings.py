"""Bad input, fuzzed: random flag values for every command and random sweep configs for every
experiment either validate or end in one line and exit 2 (ConfigError for a config), never
a traceback and never a run with a setting the user did not give."""

import math
import re

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


def _settings_classes():
    from meanfield.torch.settings import SETTINGS
    from meanfield.twolayer.coupling import CoupleSettings

    return {"couple": CoupleSettings, **SETTINGS}


#: A field's value: wrong types, edges, NaN and sizes typed with too many digits (10**12
#: is refused before any work); the sizes in between that a run could take (a teacher of
#: width 5000 takes seconds to build) are left out, to keep the test short.
SETTING_VALUE = st.one_of(
    st.integers(-3, 40), st.sampled_from([10 ** 12, 2 ** 63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "relu", "none", "nan", "paper", "bimodal", "square", "all",
                     "isotropic", "cuda:7", "mnist"]), st.booleans(), st.none(),
    st.lists(st.one_of(st.integers(-1, 2), st.floats(-1, 2)), max_size=3).map(tuple))


@pytest.mark.parametrize("experiment", ["couple", "empirical", "empirical_path",
                                        "deep_connectivity", "deep_paths"])
def test_random_settings_check_or_raise_value_error_naming_the_setting(experiment):
    """Each settings dataclass, built with random values of its fields: ``check()`` accepts
    them or raises ValueError, in one line, whose message names a field given (or a
    quantity computed from fields given); it needs neither torch nor the data set."""
    import dataclasses

    cls = _settings_classes()[experiment]
    names = [f.name for f in dataclasses.fields(cls)]
    options = get_experiment(experiment).options
    assert list(options) == names
    # the quantities some messages name, and the fields they are computed from
    derived = {"T / alpha": {"T", "alpha", "N"}, "T / h": {"T", "h"},
               "the snapshots": {"N", "M", "d", "snapshots"}, "the teacher": {"d", "width"},
               "activation": {"activation"}, "delta": {"delta", "task"}}

    @FUZZ
    @given(st.dictionaries(st.sampled_from(names), SETTING_VALUE, min_size=1, max_size=3))
    def run(values):
        settings = cls(**values)
        try:
            assert settings.check() is settings
        except ValueError as e:
            msg = str(e)
            assert "\n" not in msg
            named = [k for k in values if re.search(rf"\b{re.escape(k)}\b", msg)]
            named += [k for k, keys in derived.items() if msg.startswith(k) and keys & set(values)]
            assert named, (values, msg)
            return
        for k, v in values.items():  # accepted: each value given has its option's type
            typ, default = options[k][:2]
            assert getattr(settings, k) is v
            if v is None:
                assert default is None, (k, v)
            elif typ == "floats":
                assert all(0 <= f <= 1 for f in v), (k, v)
            elif typ is float:
                assert isinstance(v, (int, float)) and not isinstance(v, bool), (k, v)
                assert math.isfinite(v), (k, v)
            else:
                assert isinstance(v, typ) and (typ is bool or not isinstance(v, bool)), (k, v)
    run()


@pytest.mark.parametrize("experiment", ["couple", "empirical", "empirical_path",
                                        "deep_connectivity", "deep_paths"])
def test_default_settings_pass_their_check_and_bad_ones_name_the_range(experiment):
    cls = _settings_classes()[experiment]
    assert cls().check() == cls()
    with pytest.raises(ValueError, match=r"^N must be an integer >= (1|2)"):
        cls(N=1 if experiment != "couple" else 0).check()
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, got -1"):
        cls(seed=-1).check()
    # every field, given a value no run can take (whether or not the run would read it),
    # is refused with its name first
    bad = {int: -1, float: math.nan, str: "?", bool: 1, "floats": (2.0,), "ints": (-1,)}
    for name, (typ, _, _) in get_experiment(experiment).options.items():
        if name in ("data_path", "device"):  # any folder; the device: check_settings
            continue
        with pytest.raises(ValueError, match=rf"^{name}\b"):
            cls(**{name: bad[typ]}).check()
