"""``runtime.leaks()`` on ports of Go's goroutine-leak corpus.

Go's leak profile is tested on ``src/runtime/testdata/testgoroutineleakprofile/``:
micro-tests (``simple.go``), common leak patterns from industrial code
(``commonpatterns.go``) and real bugs from open-source projects (``goker/``,
from the GoBench suite). The tests below are Python ports of a varied set.

How every port is run:

- main calls a setup function that builds the buggy situation out of channels
  and locks that are locals of the setup (or of the goroutines it starts), so
  once it returns nothing that runs can reach them any more;
- the original's racy interleaving (a ``runtime.Gosched()`` in the Go code) is
  forced with a handshake over channels, so the losing order happens every
  time; nothing waits by sleeping;
- main waits with ``wait_until_blocked`` until the expected goroutines are
  parked, then calls ``runtime.leaks()`` while every other goroutine is parked,
  and compares the exact set of leaked goroutines (wait reason and the
  goroutine's function) with the expected one;
- a *bystander*, a goroutine parked on a channel main keeps, looks just as
  stuck but can still be woken, so it must never be reported.

The leaked goroutines are abandoned when ``run`` returns, hence
``allow_goroutine_leaks`` on every test that has any.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from conftest import parse_stack, recv_within, wait_until_blocked

import goroutines
import goroutines.time as gtime
from goroutines import Chan, context, default, go, nilchan, runtime, select, semaphore
from goroutines.atomic import Int
from goroutines.sync import Cond, Mutex, RWMutex, WaitGroup

Leaks = Counter[tuple[str, str]]


def q(qualname: str) -> str:
    """How a dump names a function of this module."""
    return f"{__name__}.{qualname}"


def leaked_goroutines(dump: str) -> list[tuple[str, list[str]]]:
    """A ``leaks()`` dump, parsed: for each goroutine its wait reason without
    the ``(leaked)`` tag, and the functions on its stack, outermost first."""
    result = []
    for gid, (reason, block) in parse_stack(dump).items():
        assert "(leaked)" in reason, f"goroutine {gid} is not marked leaked:\n{dump}"
        assert gid != 1, f"main (running) reported as leaked:\n{dump}"
        assert "\ncreated by " in block, f"goroutine {gid} has no creator line:\n{dump}"
        frames = [line[: -len("(...)")] for line in block.splitlines() if line.endswith("(...)")]
        assert frames, f"goroutine {gid} has no stack:\n{dump}"
        result.append((reason.split(" (leaked)")[0], frames))
    return result


def assert_leaks(dump: str, expected: Leaks) -> None:
    """The dump lists exactly ``expected``: (wait reason, qualified name of the
    goroutine's function) with multiplicities. Nothing else, in particular not
    the bystander, is in it."""
    found: Leaks = Counter((reason, frames[0]) for reason, frames in leaked_goroutines(dump))
    assert found == expected, f"leaked {dict(found)}, expected {dict(expected)}:\n{dump}"
    assert q("_bystander_wait") not in dump


def assert_blocked_in(dump: str, function: str, count: int) -> None:
    """``count`` leaked goroutines have ``function`` on their stack."""
    hits = sum(function in frames for _, frames in leaked_goroutines(dump))
    assert hits == count, f"{hits} leaked goroutines in {function}, expected {count}:\n{dump}"


def _bystander_wait(release: Chan[None]) -> None:
    release.recv()


def bystander() -> Chan[None]:
    """Start a goroutine parked (``chan receive``) on a channel that main
    keeps; close the channel to let it go. Call it first thing in main."""
    release: Chan[None] = Chan()
    go(_bystander_wait, release)
    wait_until_blocked(1, "chan receive")
    return release


def leaks_after(setup: Callable[[], object], blocked: dict[str, int]) -> str:
    """Run ``setup()`` in a run, next to a bystander; once ``blocked`` goroutines
    are parked (wait reason -> count, the bystander's ``chan receive``
    included), return ``runtime.leaks()``."""

    def main() -> str:
        release = bystander()
        setup()
        for reason, count in blocked.items():
            wait_until_blocked(count, reason)
        dump = runtime.leaks()
        release.close()
        return dump

    return goroutines.run(main)


def window_pair() -> tuple[Callable[[], None], Chan[None], Chan[None]]:
    """A race window to force an interleaving: the goroutine that calls
    ``window()`` stops there until the driver has received from ``entered``
    and then sent on ``resume``."""
    entered: Chan[None] = Chan()
    resume: Chan[None] = Chan()

    def window() -> None:
        entered.send(None)
        resume.recv()

    return window, entered, resume


# ---- simple.go: one goroutine, obviously stuck ------------------------------------------


def _nil_recv() -> None:
    nilchan.recv()


def _nil_send() -> None:
    nilchan.send(0)


def _select_no_cases() -> None:
    select()


def _chan_recv() -> None:
    Chan[int]().recv()


def _chan_send() -> None:
    Chan[int]().send(0)


def _select_fresh() -> None:
    select((Chan[int]().send, 0), Chan[int]().recv)


def _wait_group() -> None:
    wg = WaitGroup()
    wg.add(1)
    wg.wait()


def _mutex_twice() -> None:
    mu = Mutex()
    mu.lock()
    mu.lock()


def _rwmutex_rlock() -> None:
    rw = RWMutex()
    rw.lock()
    rw.rlock()


def _rwmutex_lock() -> None:
    rw = RWMutex()
    rw.lock()
    rw.lock()


def _cond() -> None:
    cond = Cond(Mutex())
    cond.l.lock()
    cond.wait()


def _mixed() -> None:
    ch: Chan[int] = Chan()
    wg = WaitGroup()
    wg.add(1)

    def send() -> None:
        ch.send(0)
        wg.done()

    go(send)
    wg.wait()
    ch.recv()


SIMPLE = {
    "NilRecv": (_nil_recv, {("chan receive (nil chan)", "_nil_recv"): 1}),
    "NilSend": (_nil_send, {("chan send (nil chan)", "_nil_send"): 1}),
    "SelectNoCases": (_select_no_cases, {("select (no cases)", "_select_no_cases"): 1}),
    "ChanRecv": (_chan_recv, {("chan receive", "_chan_recv"): 1}),
    "ChanSend": (_chan_send, {("chan send", "_chan_send"): 1}),
    "Select": (_select_fresh, {("select", "_select_fresh"): 1}),
    "WaitGroup": (_wait_group, {("sync.WaitGroup.Wait", "_wait_group"): 1}),
    "MutexStack": (_mutex_twice, {("sync.Mutex.Lock", "_mutex_twice"): 1}),
    "RWMutexRLock": (_rwmutex_rlock, {("sync.RWMutex.RLock", "_rwmutex_rlock"): 1}),
    "RWMutexLock": (_rwmutex_lock, {("sync.RWMutex.Lock", "_rwmutex_lock"): 1}),
    "Cond": (_cond, {("sync.Cond.Wait", "_cond"): 1}),
    "Mixed": (
        _mixed,
        {("sync.WaitGroup.Wait", "_mixed"): 1, ("chan send", "_mixed.<locals>.send"): 1},
    ),
}


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("case", list(SIMPLE))
def test_simple(case: str) -> None:
    """simple.go: a goroutine parked on a channel, select, WaitGroup, Mutex,
    RWMutex or Cond that only it ever held is leaked; so is one parked on the
    nil channel or in ``select()``, although ``nilchan`` is a module global
    anybody can reach (nothing can ever wake it). ``Mixed``: two goroutines,
    each waiting for the other through a channel and a WaitGroup."""
    body, spec = SIMPLE[case]
    expected: Leaks = Counter({(reason, q(name)): n for (reason, name), n in spec.items()})

    def main() -> str:
        release = bystander()
        go(body)
        for reason, n in Counter(reason for reason, _ in expected.elements()).items():
            wait_until_blocked(n + (reason == "chan receive"), reason)
        dump = runtime.leaks()
        release.close()
        return dump

    assert_leaks(goroutines.run(main), expected)


# ---- commonpatterns.go ------------------------------------------------------------------


def n_cast_leak(items: list[object]) -> None:
    ch: Chan[object] = Chan()

    def process(item: object) -> None:
        ch.send(item)  # only the first sender is ever received from

    for item in items:
        go(process, item)
    ch.recv()  # with no items, nobody ever sends


@pytest.mark.allow_goroutine_leaks
def test_ncast_leak() -> None:
    """commonpatterns.go NCastLeak: results are sent on an unbuffered channel
    by one goroutine per item, but only the first is received; the other
    senders leak. With no items at all, the receiver leaks instead."""

    def main() -> str:
        release = bystander()
        go(n_cast_leak, [])
        finished = WaitGroup()
        finished.go(n_cast_leak, list(range(5)))
        finished.wait()
        wait_until_blocked(4, "chan send")
        wait_until_blocked(2, "chan receive")
        dump = runtime.leaks()
        release.close()
        return dump

    assert_leaks(
        goroutines.run(main),
        Counter(
            {
                ("chan receive", q("n_cast_leak")): 1,
                ("chan send", q("n_cast_leak.<locals>.process")): 4,
            }
        ),
    )


class Worker:
    """A background worker that must be stopped with ``stop``."""

    def __init__(self) -> None:
        self.ch: Chan[object] = Chan()
        self.done: Chan[None] = Chan()

    def start(self) -> None:
        go(self.loop)

    def loop(self) -> None:
        while True:
            index, _ = select(self.ch.recv, self.done.recv)
            if index == 1:
                return

    def stop(self) -> None:
        self.done.close()

    def add_to_queue(self, item: object) -> None:
        self.ch.send(item)


def worker_lifecycle(items: list[object]) -> None:
    w = Worker()
    w.start()
    for item in items:
        w.add_to_queue(item)
    # Returns without w.stop(): the worker's select waits forever.


@pytest.mark.allow_goroutine_leaks
def test_method_contract_violation() -> None:
    """commonpatterns.go MethodContractViolation: a worker started by its
    owner must be stopped by it; the owner returns without calling ``stop``,
    and the worker's select on its queue and its done channel leaks."""

    dump = leaks_after(lambda: worker_lifecycle([None] * 10), {"select": 1})
    assert_leaks(dump, Counter({("select", q("Worker.loop")): 1}))


def timeout(ctx: context.Context, work_done: Chan[None]) -> None:
    ch: Chan[None] = Chan()

    def work() -> None:
        work_done.recv()  # the work outlasts the context (it waits for the driver)
        ch.send(None)  # nobody receives any more

    go(work)
    select(ch.recv, ctx.done().recv)


@pytest.mark.allow_goroutine_leaks
def test_timeout_context() -> None:
    """commonpatterns.go Timeout: a select waits for a result or for its
    context; the context is done first, so the goroutine computing the result
    leaks on its unbuffered send."""

    def main() -> str:
        release = bystander()
        ctx, cancel = context.with_cancel(context.background())
        cancel()
        work_done: Chan[None] = Chan()
        gave_up = WaitGroup()
        for _ in range(5):
            gave_up.go(timeout, ctx, work_done)
        gave_up.wait()  # every select returned through ctx.done()
        work_done.close()
        wait_until_blocked(5, "chan send")
        dump = runtime.leaks()
        release.close()
        return dump

    dump = goroutines.run(main)
    assert_leaks(dump, Counter({("chan send", q("timeout.<locals>.work")): 5}))


# ---- goker: real bugs ---------------------------------------------------------------------


class Stopper:
    """cockroach1055's Stopper."""

    def __init__(self) -> None:
        self.stopper: Chan[None] = Chan()
        self.stop_wg = WaitGroup()
        self.mu = Mutex()
        self.draining = Int(0)
        self.drain = WaitGroup()

    def add_worker(self) -> None:
        self.stop_wg.add(1)

    def should_stop(self) -> Chan[None]:
        return self.stopper

    def set_stopped(self) -> None:
        self.stop_wg.done()

    def quiesce(self) -> None:
        with self.mu:
            self.draining.store(1)
            self.drain.wait()
            self.draining.store(0)

    def stop(self) -> None:
        with self.mu:
            self.draining.store(1)
            self.drain.wait()
            self.stopper.close()
            self.stop_wg.wait()

    def start_task(self) -> bool:
        if self.draining.load() == 0:
            with self.mu:
                self.drain.add(1)  # the bug: nothing ever calls drain.done()
            return True
        return False


def cockroach1055_task(s: Stopper, started: WaitGroup) -> None:
    s.start_task()
    started.done()
    s.should_stop().recv()
    s.set_stopped()


def cockroach1055() -> None:
    stoppers = [Stopper() for _ in range(2)]
    started = WaitGroup()
    for s in stoppers:
        s.add_worker()
        started.add(1)
        go(cockroach1055_task, s, started)
    started.wait()  # the losing order: both tasks started before the shutdown
    done: Chan[None] = Chan()

    def shut_down() -> None:
        for s in stoppers:
            s.quiesce()
        for s in stoppers:
            s.stop()
        done.close()

    go(shut_down)
    done.recv()


@pytest.mark.allow_goroutine_leaks
def test_cockroach1055() -> None:
    """goker/cockroach1055.go: ``start_task`` adds to the drain WaitGroup but
    no task ever marks itself done, so ``quiesce`` waits on it forever (a
    WaitGroup leak); the tasks wait for a stop that never comes and the
    goroutine waiting for the shutdown leaks with them."""

    # Receiving: the bystander, cockroach1055 and two tasks.
    dump = leaks_after(lambda: go(cockroach1055), {"chan receive": 4, "sync.WaitGroup.Wait": 1})
    assert_leaks(
        dump,
        Counter(
            {
                ("chan receive", q("cockroach1055")): 1,
                ("chan receive", q("cockroach1055_task")): 2,
                ("sync.WaitGroup.Wait", q("cockroach1055.<locals>.shut_down")): 1,
            }
        ),
    )
    assert_blocked_in(dump, q("Stopper.quiesce"), 1)


class Rows:
    """cockroach13755's Rows: a context whose cancel only ``close`` calls."""

    def __init__(self) -> None:
        self.cancel: Callable[[], None] | None = None

    def init_context_close(self, ctx: context.Context) -> None:
        ctx, self.cancel = context.with_cancel(ctx)
        go(self.await_done, ctx)

    def await_done(self, ctx: context.Context) -> None:
        ctx.done().recv()
        self.close(ctx.err())

    def close(self, err: BaseException | None) -> None:
        assert self.cancel is not None
        self.cancel()


def cockroach13755(keep: list[Rows] | None = None) -> None:
    rs = Rows()
    rs.init_context_close(context.background())
    if keep is not None:
        keep.append(rs)


@pytest.mark.allow_goroutine_leaks
def test_cockroach13755_context() -> None:
    """goker/cockroach13755.go: a goroutine waits for a context to be done,
    but the rows that own its cancel function are dropped without ``close``:
    nobody can cancel the context any more. The same rows kept by main can
    still be closed, so their goroutine is not a leak."""

    def main() -> str:
        release = bystander()
        kept: list[Rows] = []
        cockroach13755(kept)
        cockroach13755()
        wait_until_blocked(3, "chan receive")
        dump = runtime.leaks()
        kept[0].close(None)
        release.close()
        return dump

    dump = goroutines.run(main)
    assert_leaks(dump, Counter({("chan receive", q("Rows.await_done")): 1}))


class Server:
    """grpc795's Server."""

    def __init__(self) -> None:
        self.mu = Mutex()
        self.drain = False

    def graceful_stop(self) -> None:
        self.mu.lock()
        if self.drain:
            self.mu.lock()  # the bug: lock where unlock was meant
            return
        self.drain = True
        self.mu.unlock()

    def serve(self) -> None:
        with self.mu:
            pass


def grpc795_graceful_stop_idempotent() -> None:
    srv = Server()
    served = WaitGroup()
    served.go(srv.serve)
    served.wait()  # in Go serve may also come later, and then leaks as well
    for _ in range(3):
        srv.graceful_stop()


@pytest.mark.allow_goroutine_leaks
def test_grpc795_mutex() -> None:
    """goker/grpc795.go: the second ``graceful_stop`` finds the server
    draining and locks its mutex a second time instead of unlocking it: the
    goroutine deadlocks on a Mutex only it can reach."""

    def main() -> str:
        release = bystander()
        for _ in range(3):
            go(grpc795_graceful_stop_idempotent)
        wait_until_blocked(3, "sync.Mutex.Lock")
        dump = runtime.leaks()
        release.close()
        return dump

    dump = goroutines.run(main)
    assert_leaks(dump, Counter({("sync.Mutex.Lock", q("grpc795_graceful_stop_idempotent")): 3}))
    assert_blocked_in(dump, q("Server.graceful_stop"), 3)


class RateQueue:
    """kubernetes58107's queue: ``get`` waits for a signal."""

    def __init__(self) -> None:
        self.cond = Cond(Mutex())

    def get(self) -> None:
        with self.cond.l:
            self.cond.wait()

    def put(self) -> None:
        self.cond.signal()


class ResourceQuotaController:
    """kubernetes58107's controller: two queues behind one RWMutex."""

    def __init__(self) -> None:
        self.worker_lock = RWMutex()
        self.queue = RateQueue()
        self.missing_usage_queue = RateQueue()

    def worker(self, queue: RateQueue) -> None:
        with self.worker_lock.rlocker():  # the bug: held while waiting in get()
            queue.get()

    def sync(self) -> None:
        for _ in range(100_000):
            with self.worker_lock:
                runtime.gosched()

    def helper_signals(self, n: int) -> None:
        for _ in range(n):
            self.queue.put()
            self.missing_usage_queue.put()


def kubernetes58107() -> None:
    rq = ResourceQuotaController()
    rq.helper_signals(10)  # every signal comes before anybody waits: all lost
    go(rq.worker, rq.queue)  # read-locks, then waits on the Cond
    wait_until_blocked(1, "sync.Cond.Wait")
    go(rq.sync)  # the write lock waits for that reader
    wait_until_blocked(1, "sync.RWMutex.Lock")
    go(rq.worker, rq.missing_usage_queue)  # and keeps the next reader out


@pytest.mark.allow_goroutine_leaks
def test_kubernetes58107_cond_rwmutex() -> None:
    """goker/kubernetes58107.go: a worker holds the controller's read lock
    while it waits on an empty queue's Cond; the periodic writer blocks on
    the write lock, and a worker of the other queue then blocks on the read
    lock behind the writer. All three leak (Cond, RWMutex.Lock, RLock)."""

    dump = leaks_after(kubernetes58107, {"sync.RWMutex.RLock": 1})
    assert_leaks(
        dump,
        Counter(
            {
                ("sync.Cond.Wait", q("ResourceQuotaController.worker")): 1,
                ("sync.RWMutex.Lock", q("ResourceQuotaController.sync")): 1,
                ("sync.RWMutex.RLock", q("ResourceQuotaController.worker")): 1,
            }
        ),
    )


class StateMemory:
    """kubernetes62464's state: read-locked recursively."""

    def __init__(self, window: Callable[[], None]) -> None:
        self.rw = RWMutex()
        self.window = window

    def get_cpuset_or_default(self) -> None:
        with self.rw.rlocker():
            if self.get_cpuset():
                return
            self.get_default_cpuset()

    def get_cpuset(self) -> bool:
        self.window()  # Go: runtime.Gosched(); here a writer arrives
        with self.rw.rlocker():  # the bug: a second read lock in one goroutine
            return False

    def get_default_cpuset(self) -> None:
        with self.rw.rlocker():
            pass

    def set_default_cpuset(self) -> None:
        with self.rw:
            pass


def kubernetes62464_reconcile_state(state: StateMemory) -> None:
    state.get_cpuset_or_default()


def kubernetes62464_remove_container(state: StateMemory) -> None:
    state.get_default_cpuset()
    state.set_default_cpuset()


def kubernetes62464() -> None:
    window, entered, resume = window_pair()
    state = StateMemory(window)
    go(kubernetes62464_reconcile_state, state)
    entered.recv()  # it holds one read lock
    go(kubernetes62464_remove_container, state)
    wait_until_blocked(1, "sync.RWMutex.Lock")  # the writer waits for that reader
    resume.send(None)  # the second read lock queues behind the writer


@pytest.mark.allow_goroutine_leaks
def test_kubernetes62464_rwmutex() -> None:
    """goker/kubernetes62464.go: a goroutine takes a read lock and, further
    down, another one; a writer arriving in between waits for the first read
    lock and keeps the second out (a waiting writer has priority): both leak."""

    dump = leaks_after(kubernetes62464, {"sync.RWMutex.RLock": 1})
    assert_leaks(
        dump,
        Counter(
            {
                ("sync.RWMutex.RLock", q("kubernetes62464_reconcile_state")): 1,
                ("sync.RWMutex.Lock", q("kubernetes62464_remove_container")): 1,
            }
        ),
    )
    assert_blocked_in(dump, q("StateMemory.get_cpuset"), 1)
    assert_blocked_in(dump, q("StateMemory.set_default_cpuset"), 1)


class Health:
    def __init__(self) -> None:
        self.stop: Chan[None] | None = Chan()

    def open_monitor_channel(self) -> Chan[None] | None:
        return self.stop

    def close_monitor_channel(self) -> None:
        if self.stop is not None:
            self.stop.send(None)


class Container:
    def __init__(self) -> None:
        self.mu = Mutex()
        self.health = Health()


class Daemon:
    def __init__(self, container: Container) -> None:
        self.container = container

    def state_changed(self) -> None:
        c = self.container
        with c.mu:
            c.health.close_monitor_channel()  # the bug: sends while holding the lock


def moby28462_monitor(c: Container, stop: Chan[None], window: Callable[[], None]) -> None:
    while True:
        index, _ = select(stop.recv, default)
        if index == 0:
            return
        window()  # Go: runtime.Gosched() in handleProbeResult
        with c.mu:  # handleProbeResult
            pass


def moby28462() -> None:
    c = Container()
    d = Daemon(c)
    stop = c.health.open_monitor_channel()
    assert stop is not None
    window, entered, resume = window_pair()
    go(moby28462_monitor, c, stop, window)
    entered.recv()  # the monitor found nothing on stop, and is about to lock
    go(d.state_changed)
    wait_until_blocked(1, "chan send")  # state_changed holds the lock, sends on stop
    resume.send(None)  # the monitor now waits for the lock


@pytest.mark.allow_goroutine_leaks
def test_moby28462_mutex_and_channel() -> None:
    """goker/moby28462.go: ``state_changed`` takes the container's lock and
    sends on the monitor's stop channel; the monitor, past its select, waits
    for that lock: a lock and a channel in a cycle, both goroutines leak."""

    dump = leaks_after(moby28462, {"sync.Mutex.Lock": 1})
    assert_leaks(
        dump,
        Counter(
            {
                ("sync.Mutex.Lock", q("moby28462_monitor")): 1,
                ("chan send", q("Daemon.state_changed")): 1,
            }
        ),
    )


class Plugin:
    """moby30408's Plugin: ``wait_active`` waits for an activation."""

    def __init__(self) -> None:
        self.activate_wait = Cond(Mutex())
        self.activate_err: Exception | None = None
        self.manifest: object | None = None

    def wait_active(self) -> Exception | None:
        with self.activate_wait.l:
            while not self.activated():
                self.activate_wait.wait()
        return self.activate_err

    def activated(self) -> bool:
        return self.manifest is not None


def moby30408_test_active(p: Plugin) -> None:
    done: Chan[None] = Chan()

    def wait_then_close() -> None:
        p.wait_active()
        done.close()

    go(wait_then_close)
    done.recv()


def moby30408() -> None:
    p = Plugin()
    p.activate_err = RuntimeError("some junk happened")  # the bug: never activated
    moby30408_test_active(p)


@pytest.mark.allow_goroutine_leaks
def test_moby30408_cond() -> None:
    """goker/moby30408.go: activation fails, but the error path never signals
    the plugin's Cond, so ``wait_active`` waits forever (a Cond leak), and so
    does the goroutine waiting for it on a channel."""

    dump = leaks_after(lambda: go(moby30408), {"sync.Cond.Wait": 1, "chan receive": 2})
    assert_leaks(
        dump,
        Counter(
            {
                ("chan receive", q("moby30408")): 1,
                ("sync.Cond.Wait", q("moby30408_test_active.<locals>.wait_then_close")): 1,
            }
        ),
    )
    assert_blocked_in(dump, q("Plugin.wait_active"), 1)


# ---- negative cases: stuck-looking, but reachable -----------------------------------------

GLOBAL_CH: Chan[int] | None = None


def _recv_global() -> None:
    assert GLOBAL_CH is not None
    GLOBAL_CH.recv()


@pytest.mark.allow_goroutine_leaks
def test_no_leak_global() -> None:
    """simple.go NoLeakGlobal: a goroutine parked on a channel kept in a
    module global is not leaked (any code may still send on it); next to it,
    one parked on a channel nobody holds (ChanRecv) is."""
    global GLOBAL_CH
    GLOBAL_CH = Chan()

    def main() -> str:
        release = bystander()
        go(_recv_global)
        go(_chan_recv)
        wait_until_blocked(3, "chan receive")
        dump = runtime.leaks()
        assert GLOBAL_CH is not None
        GLOBAL_CH.send(1)
        release.close()
        return dump

    try:
        dump = goroutines.run(main)
    finally:
        GLOBAL_CH = None
    assert_leaks(dump, Counter({("chan receive", q("_chan_recv")): 1}))
    assert q("_recv_global") not in dump


def _receive_then_close(ch: Chan[int], finished: Chan[None]) -> None:
    ch.recv()
    finished.close()


def _hold_in_thread(
    inbox: queue.Queue[Chan[int]], ready: Chan[None], go_on: threading.Event
) -> None:
    ch = inbox.get()  # from now on only this frame holds the channel
    ready.send(None)
    go_on.wait()
    ch.send(1)


@pytest.mark.allow_goroutine_leaks
def test_no_leak_channel_held_by_plain_thread(
    start_thread: Callable[..., threading.Thread],
) -> None:
    """A goroutine parked on a channel that only a plain thread's stack holds
    is not leaked: the thread may send on it (and does)."""
    inbox: queue.Queue[Chan[int]] = queue.Queue()
    go_on = threading.Event()

    def setup() -> Chan[None]:
        ch: Chan[int] = Chan()
        finished: Chan[None] = Chan()
        go(_receive_then_close, ch, finished)
        inbox.put(ch)
        return finished

    def main() -> str:
        release = bystander()
        ready: Chan[None] = Chan()
        start_thread(_hold_in_thread, inbox, ready, go_on)
        finished = setup()
        recv_within(ready)  # the thread holds the channel; the queue is empty
        wait_until_blocked(2, "chan receive")
        try:
            dump = runtime.leaks()
        finally:
            go_on.set()
        recv_within(finished)
        release.close()
        return dump

    try:
        dump = goroutines.run(main)
    finally:
        go_on.set()
    assert dump == ""


def _sleep_then_send(ch: Chan[int]) -> None:
    gtime.sleep(3600)
    ch.send(1)


def _blocking_then_send(ch: Chan[int], go_on: threading.Event) -> None:
    goroutines.blocking(go_on.wait)
    ch.send(1)


@pytest.mark.allow_goroutine_leaks
def test_no_leak_channel_held_by_sleeping_or_blocking_goroutine() -> None:
    """A goroutine parked on a channel that only a sleeping goroutine, or one
    in a ``blocking`` call, holds is not leaked: a timer or a helper thread
    will wake that one, and it may then send. The sleeper and the goroutine
    in the blocking call are never leaked themselves."""
    go_on = threading.Event()

    def setup() -> Chan[None]:
        asleep: Chan[int] = Chan()
        in_call: Chan[int] = Chan()
        finished: Chan[None] = Chan()
        go(_receive_then_close, asleep, Chan[None]())
        go(_receive_then_close, in_call, finished)
        go(_sleep_then_send, asleep)
        go(_blocking_then_send, in_call, go_on)
        return finished

    def main() -> str:
        release = bystander()
        finished = setup()
        wait_until_blocked(3, "chan receive")
        wait_until_blocked(1, "sleep")
        wait_until_blocked(1, "blocking call")
        try:
            dump = runtime.leaks()
        finally:
            go_on.set()
        recv_within(finished)  # the goroutine in the call did send
        release.close()
        return dump

    try:
        dump = goroutines.run(main)
    finally:
        go_on.set()
    assert dump == ""


@pytest.mark.allow_goroutine_leaks
def test_no_leak_locks_held_by_main() -> None:
    """Goroutines parked on a Mutex, an RWMutex, a WaitGroup and a Cond that
    main still holds are not leaked: main releases each one afterwards."""

    def main() -> str:
        mu, rw, wg, cond = Mutex(), RWMutex(), WaitGroup(), Cond(Mutex())
        mu.lock()
        rw.lock()
        wg.add(1)
        finished = WaitGroup()

        def wait_cond() -> None:
            with cond.l:
                cond.wait()

        finished.go(mu.lock)
        finished.go(rw.rlock)
        finished.go(wg.wait)
        finished.go(wait_cond)
        for reason in ("sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.WaitGroup.Wait"):
            wait_until_blocked(1, reason)
        wait_until_blocked(1, "sync.Cond.Wait")
        dump = runtime.leaks()
        mu.unlock()
        rw.unlock()
        wg.done()
        with cond.l:
            cond.signal()
        finished.wait()
        return dump

    assert goroutines.run(main) == ""


def _relay(inbox: Chan[int], outbox: Chan[int]) -> None:
    outbox.send(inbox.recv())


def relay_chain(n: int) -> Chan[int]:
    """``n`` goroutines, each waiting to pass a value on to the next; returns
    the first one's inbox. The last one's outbox has no receiver."""
    head: Chan[int] = Chan()
    inbox = head
    for _ in range(n):
        outbox: Chan[int] = Chan()
        go(_relay, inbox, outbox)
        inbox = outbox
    return head


@pytest.mark.allow_goroutine_leaks
def test_reachability_is_transitive() -> None:
    """Go's fixed point: a goroutine parked on a channel held only by another
    parked goroutine is reachable when that one could be woken. Of two chains
    of relays, the one whose head main keeps is not leaked at all, the other
    one entirely; once main sends into its chain, only the last relay, stuck
    sending to nobody, is."""

    def main() -> tuple[str, str]:
        release = bystander()
        head = relay_chain(3)
        relay_chain(3)
        wait_until_blocked(7, "chan receive")
        first = runtime.leaks()
        head.send(1)
        wait_until_blocked(1, "chan send")
        wait_until_blocked(4, "chan receive")
        second = runtime.leaks()
        release.close()
        return first, second

    first, second = goroutines.run(main)
    assert_leaks(first, Counter({("chan receive", q("_relay")): 3}))
    assert_leaks(second, Counter({("chan receive", q("_relay")): 3, ("chan send", q("_relay")): 1}))


# ---- the mechanics of leaks() itself -------------------------------------------------------


def test_leaks_outside_any_run_is_empty() -> None:
    assert runtime.leaks() == ""


def _select_with_timeout(ch: Chan[int], timeout: float) -> None:
    select(ch.recv, gtime.after(timeout).recv)


@pytest.mark.allow_goroutine_leaks
def test_a_pending_timer_can_wake_a_select() -> None:
    """A timer's channel is held by the runtime's timer heap until it fires,
    so a select that waits on one is not leaked; once the timer is stopped
    nothing can wake it."""

    def main() -> tuple[str, str]:
        go(_select_with_timeout, Chan(), 3600.0)
        timer = gtime.Timer(3600.0)
        go(select, Chan().recv, timer.c.recv)
        wait_until_blocked(2, "select")
        before = runtime.leaks()
        timer.stop()
        del timer
        return before, runtime.leaks()

    before, after = goroutines.run(main)
    assert before == ""
    assert [reason for reason, _ in parse_stack(after).values()] == ["select (leaked)"]
    assert "goroutines.select" in after


def _acquire(sem: Any, ctx: Any) -> None:
    sem.acquire(ctx)


@pytest.mark.allow_goroutine_leaks
def test_semaphore_waiters_leak_with_the_semaphore_unless_their_context_can_end() -> None:
    """A waiter in ``Weighted.acquire`` is woken by a release, or by its
    context ending: it leaks once nothing reaches the semaphore, nor a way to
    cancel its context."""

    def main() -> list[str]:
        background_waiter, ctx_waiter = semaphore.Weighted(1), semaphore.Weighted(1)
        background_waiter.acquire(context.background())
        ctx_waiter.acquire(context.background())
        ctx, cancel = context.with_cancel(context.background())
        go(_acquire, background_waiter, context.background())
        go(_acquire, ctx_waiter, ctx)
        wait_until_blocked(2, "select")
        del background_waiter, ctx_waiter
        dumps = [runtime.leaks()]
        del ctx
        dumps.append(runtime.leaks())  # cancel still reaches the context
        del cancel
        dumps.append(runtime.leaks())
        return dumps

    dumps = goroutines.run(main)
    assert [sorted(parse_stack(dump)) for dump in dumps] == [[2], [2], [2, 3]]
    assert all(reason == "select (leaked)" for reason, _ in parse_stack(dumps[2]).values())


@pytest.mark.allow_goroutine_leaks
def test_leaks_from_a_plain_thread_describes_the_background_runtime() -> None:
    """Outside any run, goroutines started by plain threads live in the
    background runtime; ``leaks()`` looks at those."""

    def stuck() -> None:
        Chan().recv()

    go(stuck)
    wait_until_blocked(1, "chan receive")
    dump = runtime.leaks()
    assert [reason for reason, _ in parse_stack(dump).values()] == ["chan receive (leaked)"]
    assert (
        q("test_leaks_from_a_plain_thread_describes_the_background_runtime.<locals>.stuck") in dump
    )
