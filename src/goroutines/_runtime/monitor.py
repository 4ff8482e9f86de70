"""The SIGQUIT monitor: a goroutine dump on demand while ``run`` is active.

Go prints every goroutine's stack and exits on SIGQUIT (Ctrl-\\). Here the
dump goes to stderr and the program carries on (API.md), so that a program
that seems stuck can be looked at without being killed.

What it owns: for the span of one run, SIGQUIT. ``start`` blocks the signal
on the calling thread, takes over its disposition (main thread only) and
starts the monitor thread; ``Monitor.stop`` undoes all three, so that outside
a run SIGQUIT does what it did before (by default: quit with a core dump).

Why a thread: Python runs a signal handler only on the main thread, and only
between two bytecodes. A goroutine spinning on the main thread runs bytecodes,
but the main thread may just as well be blocked in a C call (a lock, a plain
``time.sleep``, the worker's poller), which is exactly when a dump is wanted.
The monitor thread never runs goroutines: it waits in ``signal.sigwait`` and
formats ``runtime.stack()``'s dump from outside, as curio's monitor does.

Invariants:
  - SIGQUIT is blocked in every thread of the run. ``start`` blocks it on the
    calling thread before any worker thread starts, and a thread inherits its
    creator's mask: worker threads, workers added by ``gomaxprocs`` and the
    ``blocking`` helper threads (started from workers) all block it. So a
    SIGQUIT sent to the process is taken by the monitor's ``sigwait``, not by
    a worker's default action.
  - Threads started before the run do not block SIGQUIT, and the kernel may
    hand the signal to one of them. On the main thread, ``start`` therefore
    also installs a handler, ``_forward``, which re-sends the signal to the
    monitor thread alone (``pthread_kill``); it runs at the main thread's next
    bytecode, or when its poller wakes (``sched._signals_wake``). A run on
    another thread cannot install a handler: there the main thread keeps
    SIGQUIT's own disposition and takes the signal.
  - The monitor exits when ``stop`` sets ``_stopping`` and sends it SIGQUIT.
    ``_lock`` makes that one step: the monitor reads ``_stopping`` under it,
    so it cannot see the flag and exit before ``stop``'s signal is sent, and
    no SIGQUIT is ever sent to a thread that has exited (undefined for
    ``pthread_kill``). ``_forward``, a signal handler on the main thread that
    may interrupt ``stop`` there, only tries the lock, and forwards nothing
    once ``_stopping`` is set. A SIGQUIT from another process that the
    monitor takes once ``_stopping`` is set (it came as the run ended, before
    ``stop``'s own) is not swallowed: the monitor sends it to the process
    again, to be taken with SIGQUIT's own disposition once ``stop`` has given
    that back.
  - The dump is a racy snapshot, like ``runtime.stack()`` from another worker:
    a goroutine may start, park or finish while it is read. A dump that fails
    on such a change is tried again, and the monitor itself never dies of one.
    (Without the GIL, see ``dump``'s docstring for the limit of such reads.)

Where SIGQUIT, ``pthread_sigmask`` or ``sigwait`` do not exist (Windows),
``start`` does nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from .dump import format_goroutines
from .threads import start_runtime_thread

if TYPE_CHECKING:
    from .sched import Runtime

_SUPPORTED = all(hasattr(signal, name) for name in ("SIGQUIT", "pthread_sigmask", "sigwait"))

HEADER = "SIGQUIT: quit"  # Go's first line; the dump follows after a blank line

_DUMP_ATTEMPTS = 3
# How long ``stop`` waits for the monitor thread (a daemon) to exit, in seconds.
_JOIN_TIMEOUT = 1.0


class Monitor:
    """One run's SIGQUIT monitor. See the module docstring."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._stopping = False  # guarded by _lock
        self._was_blocked = True  # nothing to restore until start blocks the signal
        self._previous_handler: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sigquit = signal.SIGQUIT
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {sigquit})
        self._was_blocked = sigquit in previous_mask
        try:
            if threading.current_thread() is threading.main_thread():
                previous = signal.getsignal(sigquit)
                if previous is not None:  # None: a handler not installed from Python; keep it
                    self._previous_handler = previous
                    signal.signal(sigquit, self._forward)
            self._thread = start_runtime_thread(self._main, "goroutines-monitor")
        except BaseException:  # a Ctrl-C, or no thread: give SIGQUIT back at once
            self._give_back()
            raise

    def stop(self) -> None:
        """Stop the monitor thread and give SIGQUIT back. Call from the thread
        that called ``start``."""
        thread = self._thread
        if thread is None:
            return  # never started: SIGQUIT is not supported here
        try:
            with self._lock:
                self._stopping = True
                if thread.ident is not None:
                    signal.pthread_kill(thread.ident, signal.SIGQUIT)
            thread.join(_JOIN_TIMEOUT)  # it may be writing a dump to a full pipe
        finally:  # even if a Ctrl-C interrupts the join
            self._give_back()

    def _give_back(self) -> None:
        """Restore SIGQUIT's handler and the calling thread's mask."""
        if self._previous_handler is not None:
            signal.signal(signal.SIGQUIT, self._previous_handler)
        if not self._was_blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGQUIT})

    def _forward(self, signum: int, frame: Any) -> None:
        """The main thread's handler: a SIGQUIT taken by a thread that does
        not block it is passed on to the monitor thread."""
        if not self._lock.acquire(blocking=False):
            # Held by ``stop`` (maybe on this very thread: the run is ending),
            # or for an instant by a monitor just woken, whose dump is coming.
            return
        try:
            thread = self._thread
            if not self._stopping and thread is not None and thread.ident is not None:
                signal.pthread_kill(thread.ident, signal.SIGQUIT)
        finally:
            self._lock.release()

    def _main(self) -> None:
        while True:
            sender = _wait_for_sigquit()
            with self._lock:
                stopping = self._stopping
            if not stopping:
                self._print_dump()
                continue
            if sender not in (None, os.getpid()):
                # Not stop's signal but one from outside, taken as the run
                # ended: pass it on, to be taken with SIGQUIT's own disposition
                # once stop gives that back (a thread leaves it pending).
                os.kill(os.getpid(), signal.SIGQUIT)
            return

    def _print_dump(self) -> None:
        stream = sys.stderr
        if stream is None:
            return
        try:
            stream.write(f"{HEADER}\n\n{dump(self.runtime)}")
            stream.flush()
        except Exception:  # a closed stderr must not kill the monitor
            pass


def _wait_for_sigquit() -> int | None:
    """Wait for SIGQUIT; return the pid of its sender where the system says
    (``sigwaitinfo``; not on macOS), else None."""
    if hasattr(signal, "sigwaitinfo"):
        return signal.sigwaitinfo({signal.SIGQUIT}).si_pid
    signal.sigwait({signal.SIGQUIT})
    return None


def dump(runtime: Runtime) -> str:
    """The run's goroutine dump; tried again if a goroutine changes under it."""
    error: Exception | None = None
    for _ in range(_DUMP_ATTEMPTS):
        try:
            return format_goroutines(list(runtime.allg.copy().values()))
        except Exception as exc:  # a racy snapshot; see the module docstring
            error = exc
    return f"(goroutine dump failed: {error!r})\n"


def start(runtime: Runtime) -> Monitor:
    """Start ``runtime``'s monitor; call before its first worker runs. Where
    SIGQUIT cannot be waited for (see the module docstring) the monitor does
    nothing, and its ``stop`` neither."""
    monitor = Monitor(runtime)
    if _SUPPORTED:
        monitor.start()
    return monitor
