"""Imported first by the fork server (see
:func:`meanfield._signals.start_forkserver_ignoring_sigint`): SIGINT ignored,
then unblocked, so the server and every worker it forks leave Ctrl-C to the
client process.  Setting it ignored drops a Ctrl-C that came while it was
blocked."""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
