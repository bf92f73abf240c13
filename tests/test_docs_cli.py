"""The examples of the command-line reference (``docs/cli.md``) run as written.

Every ``bash`` block of the page's Examples section runs in a temporary
folder with ``meanfield`` on the PATH (this checkout's package), except a
block whose first line says it is not run.  Each must exit 0 and write the
files its command promises.  Behind ``-m slow`` (about a minute on two cores).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"
NOT_RUN = "# takes minutes: not run by the tests"


def example_blocks(text=None):
    """The ``bash`` blocks of the Examples section of ``docs/cli.md``."""
    text = PAGE.read_text() if text is None else text
    section = text.split("## Examples", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def test_every_command_has_an_example():
    commands = {"couple", "stability", "path", "sweep", "plot", "validate"}
    shown = {m for b in example_blocks() for m in re.findall(r"^meanfield (\w+)", b, re.M)}
    assert shown == commands


@pytest.mark.slow
def test_cli_examples_run(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = f'#!/bin/sh\nexec "{sys.executable}" -m meanfield.cli "$@"\n'
    (bin_dir / "meanfield").write_text(script)
    (bin_dir / "meanfield").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=str(ROOT), MPLBACKEND="Agg",
               NUMBA_NUM_THREADS=os.environ.get("NUMBA_NUM_THREADS", "1"))
    ran = 0
    for block in example_blocks():
        if block.startswith(NOT_RUN):
            continue
        proc = subprocess.run(["bash", "-e", "-c", block], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, block + proc.stdout[-2000:] + proc.stderr[-3000:]
        ran += 1
    assert ran == 4
    runs = tmp_path / "runs"
    for f in ("tiny-couple/results.csv", "tiny-couple/risk.png", "tiny-erf/summary.json",
              "tiny-stab/dropout.csv", "tiny-stab/paths.csv", "tiny-path/path.csv"):
        assert (runs / f).is_file(), f
    assert any((runs / "tiny-sweep" / "figures").glob("*.png"))
