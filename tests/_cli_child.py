"""``meanfield`` commands in child processes that start in milliseconds (tests only).

:class:`Zygote` starts this file as a server process that imports meanfield
(numba, pandas, matplotlib) once and then forks one child per command, so a
test can stop many runs at random moments without paying the imports every
time.  Each child runs ``meanfield ARGV`` as the console command would, with
the default SIGINT and SIGTERM dispositions of a process started from a
shell.  (multiprocessing's fork server is not used: it is one per process,
and the sweep runner starts it with its own settings for Dask workers.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback


def _child(argv, log):
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        from meanfield.cli import main

        code = main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 130
    except BaseException:  # noqa: BLE001 - reported in the log, as the console would
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve():
    import meanfield.cli  # noqa: F401  (imported once, here)
    import meanfield.experiments.runner  # noqa: F401  (config, kinds, store)
    import meanfield.plotting  # noqa: F401
    import meanfield.twolayer.experiment  # noqa: F401

    ended = {}  # pid -> exit status of the children reaped
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "start":
            pid = os.fork()
            if pid == 0:
                _child(cmd["argv"], cmd["log"])
            reply = {"pid": pid}
        else:  # poll
            pid = cmd["pid"]
            if pid not in ended:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    ended[pid] = os.waitstatus_to_exitcode(status)
            reply = {"code": ended.get(pid)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


class Zygote:
    """The server process; ``start`` returns a child's PID, ``wait`` its exit status
    (negative: killed by that signal)."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def _ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def start(self, argv, log) -> int:
        return self._ask(op="start", argv=[str(a) for a in argv], log=str(log))["pid"]

    def poll(self, pid):
        return self._ask(op="poll", pid=pid)["code"]

    def wait(self, pid, timeout=300.0) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.poll(pid)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"meanfield child {pid} still running after {timeout} s")
            time.sleep(0.02)
        return code

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(60)


if __name__ == "__main__":
    _serve()
