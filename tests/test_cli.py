import json

import pandas as pd

from meanfield.cli import main


def test_help_lists_subcommands(capsys):
    assert main([]) == 2
    assert "couple" in capsys.readouterr().out


def test_couple_writes_table_summary_and_figure(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('N = 30\nM = 60\nT = 0.2\nsnapshots = 3\nd = 4\nactivation = "erf"\n')
    out = tmp_path / "run"
    assert main(["couple", "--config", str(cfg), "--seed", "2", "--out", str(out),
                 "--quiet"]) == 0
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 3 and df["max_dist"].iloc[0] == 0.0
    s = json.loads((out / "summary.json").read_text())
    assert s["N"] == 30 and s["seed"] == 2 and s["version"]
    assert (out / "risk.png").stat().st_size > 1000 and (out / "risk.pdf").exists()


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    assert main(["couple", "--N", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "N must be" in err[0]
    cfg = tmp_path / "bad.toml"
    cfg.write_text("NN = 3\n")
    assert main(["couple", "--config", str(cfg), "--out", str(tmp_path)]) == 2
    assert "unknown key 'NN'" in capsys.readouterr().err


def test_divergence_exits_1_and_keeps_snapshots(tmp_path, capsys):
    out = tmp_path / "div"
    rc = main(["couple", "--N", "20", "--M", "30", "--alpha", "5", "--T", "1000",
               "--a-mean", "1", "--out", str(out), "--quiet"])
    assert rc == 1
    assert "step" in capsys.readouterr().err
    assert len(pd.read_csv(out / "partial.csv")) >= 1
