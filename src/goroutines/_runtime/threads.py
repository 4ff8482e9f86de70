"""Plain OS threads, as the deadlock detector sees them.

A plain thread (not a worker) that sends, receives or locks gets a
``ThreadParker``, whose ``park`` blocks the OS thread on a lock; each of its
waits queues a ``waiters.ThreadWait``, with the same waiter fields and calls
as a ``G``. The deadlock detector must know whether a plain thread could still
wake a goroutine (API.md): a run is deadlocked only if every live plain thread
is blocked in a goroutines primitive. A thread doing anything else
(computing, sleeping, waiting in ``queue.Queue.get``) might still send on a
channel, so it keeps the detector quiet, whether or not it has touched a
goroutines object yet (``any_running``).

Which threads count: those the ``threading`` module knows
(``threading.enumerate()``), minus the runtime's own threads, started with
``start_runtime_thread`` (workers, ``blocking`` helpers, monitors: they wake
goroutines only through what the detector already counts, such as a
``blocking`` call in flight), minus the worker threads of the runs, which the
caller names. A thread started with ``_thread`` or from C is invisible to
``threading`` until it uses a goroutines object (its parker then makes a
``threading._DummyThread`` for it).

``_state_lock`` guards every parker's ``blocked`` and ``_pending``: one lock
for all of them, so that ``any_running`` sees the threads in one consistent
state. With a lock per thread, a scan could read thread A as blocked, then A
be woken by thread B, then B block before the scan reached it: every thread
would look blocked while A runs.

``_parkers`` maps a ``threading.Thread`` to its parker. It is keyed by the
thread object, not its ident: the system reuses the ident of a thread that
exited, and a new thread must not inherit a dead one's parker.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

_parkers: dict[threading.Thread, ThreadParker] = {}
_state_lock = threading.Lock()
# The runtime's own threads (see ``start_runtime_thread``).
_runtime_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()

# Per-thread state: ``worker`` is the Worker a worker thread runs; ``parker`` is
# a plain thread's ThreadParker; ``known`` is set on both kinds, so that
# ``register_thread`` costs one attribute load once a thread is known.
tls = threading.local()


def _no_hook() -> None:
    pass


# Called (without locks held) each time a plain thread blocks; the scheduler
# installs its deadlock check here (this module must not import the scheduler).
_on_block: Callable[[], None] = _no_hook


def set_block_hook(hook: Callable[[], None]) -> None:
    global _on_block
    _on_block = hook


def thread_parker() -> ThreadParker:
    """This plain thread's parker, registering the thread on first use."""
    try:
        return tls.parker  # type: ignore[no-any-return]
    except AttributeError:
        thread = threading.current_thread()
        parker = ThreadParker(thread)
        tls.parker = parker
        tls.known = True
        with _state_lock:
            _parkers[thread] = parker
        return parker


def start_runtime_thread(
    target: Callable[..., object], name: str, args: tuple[object, ...] = ()
) -> threading.Thread:
    """Start a daemon thread of the runtime itself (a worker, a ``blocking``
    helper, a monitor): the deadlock detector does not count it as a plain
    thread that might wake a goroutine (see the module docstring)."""
    thread = threading.Thread(target=target, name=name, args=args, daemon=True)
    _runtime_threads.add(thread)
    thread.start()
    return thread


def register_thread() -> None:
    """Note that this thread uses goroutines objects (cheap once known)."""
    try:
        tls.known  # noqa: B018
    except AttributeError:
        if getattr(tls, "worker", None) is None:
            thread_parker()


def any_running(workers: set[int]) -> bool:
    """Is some plain thread alive and not blocked in a goroutines primitive?
    ``workers``: the thread idents of the runs' workers, which are not plain
    threads; nor are the runtime's own threads (see the module docstring)."""
    with _state_lock:
        for exited in [t for t in _parkers if not t.is_alive()]:
            del _parkers[exited]
        for thread in threading.enumerate():
            if thread.ident in workers or thread in _runtime_threads:
                continue
            known = _parkers.get(thread)
            if (known is None or not known.blocked) and thread.is_alive():
                return True
    return False


# How often the main thread, blocked in a primitive, runs signal handlers that
# are pending (see ThreadParker), in seconds.
_SIGNAL_POLL = 0.1


class ThreadParker:
    """What a plain OS thread blocks on: ``park`` blocks the thread itself.

    Each wait queues a fresh ``waiters.ThreadWait`` record that points here
    (so that a wait can be withdrawn; see ``waiters``); the parker is the
    thread's for good.

    ``blocked`` is True while the thread waits in a goroutines primitive; the
    deadlock detector reads it. ``_pending`` is a wake-up that came before the
    thread parked. Both are guarded by the module's ``_state_lock`` (see the
    module docstring), so the detector never sees a woken thread as blocked.
    ``_wakeup`` is acquired except between a ``make_ready`` and the ``park``
    it ends.

    A signal handler that raises while the thread waits (only ever on the
    main thread: Ctrl-C's ``KeyboardInterrupt``) makes ``park`` raise that, and
    leaves the parker as if the thread had not parked: not ``blocked``, and a
    wake-up that came meanwhile kept in ``_pending`` for ``take_wakeup``.
    CPython runs a handler between two bytecodes, and the kernel interrupts
    only a wait in progress: a signal that lands just before the thread
    blocks in ``_wakeup.acquire()`` would wait for the wake-up. So the main
    thread, the one that runs handlers, waits in slices of ``_SIGNAL_POLL``
    seconds, between which a pending handler runs.
    """

    __slots__ = ("_pending", "_runs_handlers", "_wakeup", "blocked", "thread")

    def __init__(self, thread: threading.Thread) -> None:
        self._wakeup = threading.Lock()
        self._wakeup.acquire()
        self._pending = False
        self._runs_handlers = thread is threading.main_thread()
        self.thread = thread
        self.blocked = False

    def park(self, wait_reason: str, waiting_on: object = None) -> None:
        with _state_lock:
            if self._pending:
                self._pending = False
                return
            self.blocked = True
        try:
            _on_block()
            if self._runs_handlers:
                while not self._wakeup.acquire(timeout=_SIGNAL_POLL):
                    pass  # a signal handler pending runs here
            else:
                self._wakeup.acquire()
        except BaseException:  # a signal handler raised: see the class docstring
            self._interrupted()
            raise

    def _interrupted(self) -> None:
        with _state_lock:
            if self.blocked:  # no wake-up came
                self.blocked = False
                return
            # make_ready released _wakeup: take it, unless the acquire did.
            self._wakeup.acquire(False)
            self._pending = True

    def take_wakeup(self) -> None:
        """Wait for a wake-up that a waker owes this thread (it claimed the
        thread's waiter record; the wake-up is on its way) and take it, so
        that it cannot end a later ``park``. A signal handler raising in this
        instant is not let through: the owed wake-up must be taken first, and
        the exception that interrupted the wait is on its way up already."""
        while True:
            try:
                self.park("")
            except BaseException:
                continue
            return

    def make_ready(self) -> None:
        with _state_lock:
            if self.blocked:
                self.blocked = False
                self._wakeup.release()
            else:
                self._pending = True
