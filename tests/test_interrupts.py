"""The command line as a terminal user meets it: Ctrl-C, listening sockets, start-up.

Ctrl-C is sent the way a terminal sends it, to the whole foreground process
group of a pseudo-terminal, so the Dask workers get it too.
"""

import os
import pty
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

psutil = pytest.importorskip("psutil")  # a dependency of distributed

SWEEP = ('experiment = "stability"\n[fixed]\nd = 4\nT = 20.0\nhalf_draws = 1\n'
         'straight_max_N = 0\naligned_max_N = 0\n[grid]\nN = [16, 32, 48, 64]\n'
         'seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n')


def _sweep_cmd(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SWEEP)
    out = tmp_path / "out"
    return [sys.executable, "-m", "meanfield.cli", "sweep", str(cfg), "--out", str(out),
            "--workers", "2"], out


def _in_terminal(cmd, ready, timeout=180):
    """Run ``cmd`` on a pseudo-terminal; once ``ready()`` holds, send SIGINT to its
    process group as a terminal's Ctrl-C does.  Returns (output, exit code)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        # the default disposition, as a shell gives its foreground job: one ignored in
        # this process (by whatever ran earlier in it) would be inherited through exec
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(cmd[0], cmd)
    out, sent, t0 = b"", False, time.time()
    while time.time() - t0 < timeout:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        if not sent and ready():
            os.killpg(os.getpgid(pid), signal.SIGINT)
            sent = True
    else:
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert sent, "the run ended before it could be interrupted"
    return out.decode(errors="replace"), os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("when", ["start-up", "cells running"])
def test_ctrl_c_in_a_terminal_prints_the_resume_line_and_nothing_else(tmp_path, when):
    cmd, out = _sweep_cmd(tmp_path)
    cells = out / "cells"
    if when == "start-up":  # the folder exists; the cluster is starting
        def ready():
            return cells.exists()
    else:
        def ready():
            return cells.exists() and any(cells.glob("*.json"))
    text, code = _in_terminal(cmd, ready)
    assert code == 130, text
    assert "run the same command again to resume" in text, text
    for noise in ("Traceback", "KeyboardInterrupt", "leaked semaphore", "Error"):
        assert noise not in text, text


SERVER_START = """
import multiprocessing, os, signal
from unittest import mock
from multiprocessing import forkserver
from meanfield._signals import start_forkserver_ignoring_sigint

def sigint(pid):
    bits = {k: int(v, 16) for k, _, v in (line.partition(":") for line in
            open(f"/proc/{pid}/status")) if k in ("SigBlk", "SigIgn")}
    return {k: bool(v >> (signal.SIGINT - 1) & 1) for k, v in bits.items()}

def report(q):
    q.put((sigint("self"), sigint(os.getppid())))

if __name__ == "__main__":
    start = forkserver.ensure_running
    def ctrl_c_then_start():
        os.kill(os.getpid(), signal.SIGINT)
        start()
    with mock.patch.object(forkserver, "ensure_running", ctrl_c_then_start):
        try:
            start_forkserver_ignoring_sigint()
            print("lost")
        except KeyboardInterrupt:
            print("raised")
    ctx = multiprocessing.get_context("forkserver")
    q = ctx.Queue()
    p = ctx.Process(target=report, args=(q,))
    p.start()
    print(sigint("self"), *q.get())
    p.join()
"""


def test_ctrl_c_while_the_fork_server_starts_is_raised_and_its_workers_ignore_it(tmp_path):
    """A Ctrl-C while the fork server is spawned is raised in the client once the
    server runs.  Ignoring SIGINT in the client for those ~10 ms (the earlier
    way) lost it, and a sweep interrupted then ran all 40 cells and exited 0: 2
    of 55 Ctrl-Cs sent 0.1-0.7 s after start.  The server and the worker it forks
    still ignore SIGINT, and neither holds it blocked."""
    script = tmp_path / "start.py"
    script.write_text(SERVER_START)
    # the default SIGINT disposition, as a shell gives its foreground job (a suite run
    # as a background job would hand down an ignored one)
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert res.returncode == 0, res.stderr
    raised, masks = res.stdout.split("\n", 1)
    assert raised == "raised", res.stdout
    client = "{'SigBlk': False, 'SigIgn': False}"
    ignored = "{'SigBlk': False, 'SigIgn': True}"
    assert masks.split() and masks.strip() == f"{client} {ignored} {ignored}", res.stdout


CTRL_C_IN_EXEC = """
import argparse

def parse_known_args(self, *args, **kwargs):
    # a Ctrl-C that lands in exec'd code, as in a dataclass's generated __init__
    exec("raise KeyboardInterrupt")

argparse.ArgumentParser.parse_known_args = parse_known_args
"""


@pytest.mark.parametrize("module", ["meanfield", "meanfield.cli"])
def test_python_m_exits_130_after_a_ctrl_c_inside_exec_code(tmp_path, module):
    """CPython marks a KeyboardInterrupt raised in ``exec``'d code as unhandled
    even when it is caught, and ``python -m`` then kills itself with SIGINT at
    exit: the CI's Ctrl-C test saw exit -2 after the resume line.  The status is
    130, and the one line is printed."""
    (tmp_path / "sitecustomize.py").write_text(CTRL_C_IN_EXEC)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", module, "stability", "--out",
                          str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=120, env=env)
    assert (res.returncode, res.stderr.strip()) == (
        130, "meanfield stability: interrupted; run the same command again to resume")

SHOUT = """
import logging, sys
from meanfield.experiments.runner import dask_client

def shout():
    logging.getLogger("distributed.worker").error("worker shouts")

if __name__ == "__main__":
    with dask_client(2, logs_dir=sys.argv[1]) as client:
        client.run(shout)
        logging.getLogger("distributed.scheduler").error("scheduler shouts")
"""


def test_dask_log_lines_go_to_the_logs_folder_not_the_terminal(tmp_path):
    """An ERROR line of a worker (as the heartbeat race at shutdown writes,
    dask/distributed#7105) or of the scheduler reaches neither stdout nor stderr,
    and is kept in the logs folder, one file per process."""
    script = tmp_path / "shout.py"
    script.write_text(SHOUT)
    logs = tmp_path / "logs"
    res = subprocess.run([sys.executable, str(script), str(logs)], capture_output=True,
                         text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert "shouts" not in res.stdout + res.stderr, res.stderr
    assert res.stdout + res.stderr == "", res.stdout + res.stderr
    assert sorted(p.name for p in logs.iterdir()) == ["client.log", "worker-0.log",
                                                      "worker-1.log"]
    assert "distributed.scheduler - ERROR - scheduler shouts" in (logs / "client.log").read_text()
    for w in ("worker-0.log", "worker-1.log"):
        assert "distributed.worker - ERROR - worker shouts" in (logs / w).read_text()


def _listening(proc):
    found = []
    for p in [proc] + proc.children(recursive=True):
        try:
            conns = p.net_connections(kind="inet")
        except psutil.Error:
            continue
        found += [c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN]
    return found


def test_a_local_sweep_listens_on_loopback_only(tmp_path):
    """Scheduler, workers, nannies and the dashboard: every listening socket of the
    sweep's process tree is on 127.0.0.0/8 or ::1."""
    cmd, out = _sweep_cmd(tmp_path)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ps = psutil.Process(proc.pid)
        deadline, seen = time.time() + 120, []
        while time.time() < deadline and proc.poll() is None:
            seen = _listening(ps)
            if (out / "cells").exists() and any((out / "cells").glob("*.json")):
                seen = _listening(ps)
                break
            time.sleep(0.2)
        assert len(seen) >= 4, seen  # scheduler, dashboard, two workers (at least)
        assert all(ip.startswith("127.") or ip == "::1" for ip in seen), seen
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def _imported_by_help(args, modules):
    """Which of ``modules`` a fresh interpreter has imported after ``meanfield ARGS``."""
    code = ("import sys, contextlib, io\nfrom meanfield.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(%r)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in %r if m in sys.modules))" % (list(args), tuple(modules)))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_top_level_help_imports_no_numerical_module():
    assert _imported_by_help(["--help"], ("numba", "scipy", "pandas", "torch", "distributed",
                                          "matplotlib")) == "[]"


@pytest.mark.parametrize("command", ["couple", "stability", "path", "sweep", "plot", "validate"])
def test_a_command_help_imports_neither_torch_nor_pot(command):
    """POT imports torch (about 2 s); ``stability --help`` and ``path --help`` took
    6-9 s while the two-layer package imported it at the top of ``transport``."""
    assert _imported_by_help([command, "--help"],
                             ("torch", "ot", "distributed", "matplotlib")) == "[]"


def test_first_run_says_it_compiles_and_the_bar_starts_after(capsys):
    from meanfield.stepping import Stepper, simulate

    class Slow(Stepper):
        """The first step stands for a numba compile."""

        def __init__(self):
            self.time, self.step_count = 0.0, 0

        def plan(self, t):
            return int(round((t - self.time) / 0.1))

        def advance(self, n):
            if self.step_count == 0:
                time.sleep(1.5)
            self.step_count += n
            self.time = self.step_count * 0.1

        def snapshot(self):
            return np.zeros(1), np.zeros((1, 1))

        def risk(self):
            return 0.0

    tr = simulate(Slow(), [0.0, 1.0], progress=True, desc="slow")
    assert tr.steps.tolist() == [0, 10]
    err = capsys.readouterr().err
    assert "slow: compiling kernels (first run only)" in err
    # the bar's first line comes after the step that compiled, at 1 of 10 steps
    assert err.index("compiling") < err.index("0.1/1")


def test_sweep_runs_on_a_tls_scheduler_with_dasks_security_settings(tmp_path):
    """``--scheduler tls://...`` with the certificates in Dask's configuration
    (the README's cluster recipe), on a loopback cluster with a self-signed
    certificate."""
    import logging
    import shutil

    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    from meanfield.experiments import load_results, parse_config, run_sweep

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate "
                    "(apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    cfg = {"distributed.comm.require-encryption": True,
           "distributed.comm.tls.ca-file": str(cert)}
    for role in ("scheduler", "worker", "client"):
        cfg[f"distributed.comm.tls.{role}.cert"] = str(cert)
        cfg[f"distributed.comm.tls.{role}.key"] = str(key)
    sweep = parse_config({"experiment": "stability",
                          "fixed": {"d": 4, "T": 0.3, "half_draws": 1, "straight_max_N": 0,
                                    "aligned_max_N": 0},
                          "grid": {"N": [16], "seed": [0, 1]}})
    with dask.config.set(cfg):
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                               protocol="tls://", host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                               security=Security())
        try:
            assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
            rep = run_sweep(sweep, tmp_path / "tls", scheduler=cluster.scheduler_address,
                            progress=False)
        finally:
            cluster.close()
    assert rep.done == 2 and rep.failed == 0
    here = tmp_path / "here"
    run_sweep(sweep, here, workers=1, progress=False)
    import pandas as pd

    for table in ("dropout", "paths"):
        pd.testing.assert_frame_equal(load_results(tmp_path / "tls", table=table),
                                      load_results(here, table=table), check_exact=True)

