"""Preemption: a goroutine that computes without blocking yields its worker
after about 10 ms when others wait (``goroutines._runtime.preempt``, ``sysmon``).

Every program here would spin forever without preemption (on one worker), so
each is bounded: a spinner gives up after ``PATIENCE`` seconds and the test
fails. Times are asserted only where they are the point, generously: the
machine is shared and noisy.

On CPython 3.11 only the worker on the main thread can be preempted (Python
runs signal handlers there only): these tests call ``run`` from pytest's main
thread, so they hold on every interpreter.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

import pytest
from conftest import PATIENCE, wait_until_blocked

import goroutines
import goroutines.time as gtime
from goroutines import Chan, atomic, context, go, run, runtime
from goroutines import _trace_tools as trace_tools
from goroutines._runtime import preempt, sched, sysmon
from goroutines.sync import WaitGroup

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(preempt.MECHANISM is None, reason="no preemption on this interpreter"),
]


def spin_until(done: object, attribute: str = "load") -> float:
    """Spin, without blocking or yielding, until ``done.<attribute>()`` is true;
    return how long that took. Fails after PATIENCE seconds."""
    check = getattr(done, attribute)
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > PATIENCE:
            raise AssertionError("never preempted: the goroutine it waits for did not run")
    return time.monotonic() - start


@pytest.mark.parametrize("procs", [1, 2])
def test_a_goroutine_spinning_on_a_flag_lets_the_setter_run(procs: int) -> None:
    # The program: `while not flag.load(): pass`, the setter in
    # another goroutine. Without preemption, on one worker, it spins forever.
    def main() -> float:
        flag, wg = atomic.Bool(), WaitGroup()
        wg.go(flag.store, True)
        took = spin_until(flag)
        wg.wait()
        return took

    assert run(main, gomaxprocs=procs) < PATIENCE


@pytest.mark.parametrize("procs", [1, 2])
def test_cause_race_polling_without_yielding(procs: int) -> None:
    # Go's TestCauseRace with its runtime.Gosched() taken out: main polls
    # context.cause(ctx) while the goroutine that cancels waits to run.
    def main() -> bool:
        failure = ValueError("TestCauseRace")
        ctx, cancel = context.with_cancel_cause(context.background())
        wg = WaitGroup()
        wg.go(cancel, failure)
        start = time.monotonic()
        while (found := context.cause(ctx)) is None:
            assert time.monotonic() - start < PATIENCE, "never preempted"
        wg.wait()
        return found is failure

    assert run(main, gomaxprocs=procs)


def test_a_spinning_goroutine_does_not_delay_a_timer_on_its_worker() -> None:
    # The timer is due while the only other goroutine spins: preemption gives
    # the worker back to its scheduler, which fires the timer.
    def main() -> float:
        deadline = time.monotonic() + 0.05
        timer = gtime.Timer(0.05)
        fired, wg = atomic.Bool(), WaitGroup()
        wg.go(spin_until, fired)
        timer.c.recv()
        late = time.monotonic() - deadline
        fired.store(True)
        wg.wait()
        return late

    # Preempted after 10 ms of running, plus up to one sysmon tick (10 ms);
    # on 3.11 sysmon may need a few tries to hit a safe point. The best of
    # three runs, against a noisy machine.
    late = min(run(main, gomaxprocs=1) for _ in range(3))
    assert late < 0.1, f"the timer fired {late * 1000:.0f} ms late"


def test_two_spinning_goroutines_share_one_worker(tmp_path: Path) -> None:
    # Each spins for 0.6 s of wall time; between them they get the worker
    # about half the time each, which the execution trace shows.
    path = tmp_path / "trace.json"

    def spin(until: float) -> None:
        while time.monotonic() < until:
            pass

    def main() -> None:
        wg = WaitGroup()
        until = time.monotonic() + 0.6
        wg.go(spin, until)
        wg.go(spin, until)
        wg.wait()

    run(main, gomaxprocs=1, trace=str(path))
    trace = trace_tools.load(str(path))
    ran = {gid: 0.0 for gid in (2, 3)}
    for piece in trace.slices:
        if piece.goroutine in ran:
            ran[piece.goroutine] += piece.duration
    share = ran[2] / (ran[2] + ran[3])
    slices = [(p.goroutine, round(p.start), round(p.duration)) for p in trace.slices]
    assert 0.3 < share < 0.7, (ran, slices, sysmon_state())
    switches = sum(1 for piece in trace.slices if piece.goroutine in ran)
    assert switches >= 10, f"only {switches} slices: the spinners barely alternated"


def sysmon_state() -> dict[str, object]:
    """What a failure message needs to tell why a preemption did not come."""
    thread = sysmon._thread
    return {
        "sysmon alive": thread is not None and thread.is_alive(),
        "watched": len(sysmon._watched),
        "pending": len(preempt._pending),
        "armed": preempt._armed,
        "dying": len(preempt._dying),
    }


def test_sleep_zero_polling_works_without_preemption_too() -> None:
    # Go's TestCauseRace as the black-box suite ports it, with time.sleep(0)
    # for runtime.Gosched(): it yields, so it passes even with preemption off.
    def main() -> bool:
        failure = ValueError("TestCauseRace")
        ctx, cancel = context.with_cancel_cause(context.background())
        wg = WaitGroup()
        wg.go(cancel, failure)
        while (found := context.cause(ctx)) is None:
            gtime.sleep(0)
        wg.wait()
        return found is failure

    assert run(main, gomaxprocs=1)


def test_not_preempted_while_the_standard_library_holds_a_lock() -> None:
    # logging.Handler.handle holds the handler's lock (a thread lock, and an
    # RLock: the worker's thread owns it whichever goroutine runs) while it
    # calls emit. A goroutine preempted in a slow emit would let another
    # goroutine of its worker in, nested inside the first one's emit. So no
    # goroutine is preempted while a frame of the standard library is on its
    # stack; it is, once back in its own code.
    class Slow(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.deepest = 0
            self.records: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
            until = time.monotonic() + 0.05  # five preemption periods
            while time.monotonic() < until:
                pass
            self.records.append(record.getMessage())
            self.depth -= 1

    handler = Slow()
    log = logging.getLogger("test_preempt.slow")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)

    def main() -> list[str]:
        other_ran, wg = atomic.Bool(), WaitGroup()
        wg.go(lambda: (log.info("second"), other_ran.store(True)))
        log.info("first")
        spin_until(other_ran)  # preempted here, in user code
        wg.wait()
        return handler.records

    try:
        assert run(main, gomaxprocs=1) == ["first", "second"]
    finally:
        log.removeHandler(handler)
    assert handler.deepest == 1


def test_a_preempted_goroutine_shows_as_runnable_with_its_stack() -> None:
    def main() -> str:
        started, stop, wg = atomic.Bool(), atomic.Bool(), WaitGroup()

        def spinner() -> None:
            started.store(True)
            spin_until(stop)

        wg.go(spinner)
        spin_until(started)  # main is preempted: the spinner runs
        gtime.sleep(0.03)  # the spinner runs 10 ms, then is preempted for the timer
        dump = runtime.stack()
        stop.store(True)
        wg.wait()
        return dump

    dump = run(main, gomaxprocs=1)
    block = dump[dump.index("goroutine 2 [") :]
    assert block.startswith("goroutine 2 [runnable]:"), dump
    assert "spin_until" in block and "spinner" in block, dump


@pytest.mark.allow_goroutine_leaks  # the spinner is abandoned on purpose
def test_an_abandoned_preempted_goroutine_never_runs_again() -> None:
    # run returns while the spinner is preempted, runnable: as any goroutine
    # alive when main returns, it is abandoned, and never runs again, not in
    # a later run on the same thread either.
    spins = [0]

    def spinner(started: Chan[None]) -> None:
        started.close()
        while True:
            spins[0] += 1

    def main() -> None:
        started: Chan[None] = Chan()
        go(spinner, started)
        started.recv()
        gtime.sleep(0.03)  # the spinner is preempted for this timer

    run(main, gomaxprocs=1)
    after_run = spins[0]
    assert after_run > 0
    run(gtime.sleep, 0.05, gomaxprocs=1)  # sysmon watches this run: nothing of the last is left
    assert spins[0] == after_run
    assert [g.id for g in sched.take_abandoned()] == [2]
    assert not preempt._pending


def test_godebug_asyncpreemptoff_turns_it_off(python) -> None:
    # Go's switch. With it, a spinner holds its worker: the goroutine it
    # waits for never runs (the spinner gives up after 0.5 s).
    code = """
        import time
        from goroutines import atomic, go, run

        def main():
            flag = atomic.Bool()
            go(flag.store, True)
            start = time.monotonic()
            while not flag.load():
                if time.monotonic() - start > 0.5:
                    return "starved"
            return "preempted"

        print(run(main, gomaxprocs=1))
    """
    returncode, out, err = python(code, env={"GODEBUG": "asyncpreemptoff=1"})
    assert (returncode, out) == (0, "starved\n"), err
    returncode, out, err = python(code, env={"GODEBUG": None})
    assert (returncode, out) == (0, "preempted\n"), err


def test_a_request_whose_goroutine_moved_on_by_itself_is_dropped() -> None:
    # sysmon asks to preempt main while it spins where it may not be
    # preempted (user code under the package's context lookup); main then
    # parks by itself and waits where no user code runs on its worker. No
    # event on that thread will ever take the request now, so sysmon drops
    # it: kept, it would leave the events on for every thread, for good, on
    # the background runtime (whose workers never end) above all.
    requested = atomic.Bool()
    release: Chan[None] = Chan()

    class Key:
        def __eq__(self, other: object) -> bool:
            requested.store(spin_until(preempt.pending, "__call__") >= 0)
            return self is other

        __hash__ = object.__hash__

    def main() -> None:
        queued: Chan[None] = Chan()
        go(queued.close)  # waits for this worker: sysmon wants main preempted
        context.with_value(context.background(), Key(), 1).value(Key())
        queued.recv()
        release.recv()

    kept: list[bool] = []

    def watch() -> None:  # on a plain thread, while main waits for it
        deadline = time.monotonic() + PATIENCE
        while (not requested.load() or preempt.pending()) and time.monotonic() < deadline:
            time.sleep(0.005)
        kept.append(preempt.pending())
        release.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    run(main, gomaxprocs=1)
    watcher.join()
    assert requested.load()
    assert kept == [False], "the stale request was kept"


@pytest.mark.skipif(sys.version_info < (3, 12), reason="3.11 preempts the main thread only")
def test_goroutines_of_the_background_runtime_are_preempted_too() -> None:
    results: Chan[float] = Chan(1)

    def spinner() -> None:
        flag = atomic.Bool()
        goroutines.go(flag.store, True)
        results.send(spin_until(flag))

    threading.Thread(target=goroutines.go, args=(spinner,)).start()
    assert results.recv() < PATIENCE


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _code_objects(constant)


def test_pass_through_names_real_functions_of_the_package() -> None:
    # PASS_THROUGH is data about the package's own functions: a renamed one
    # must not silently stop preemption under it.
    package = Path(goroutines.__file__).parent
    found = set()
    for path in package.rglob("*.py"):
        code = compile(path.read_text(), str(path), "exec")
        where = path.relative_to(package).as_posix()
        found.update((where, inner.co_qualname) for inner in _code_objects(code))
    assert not preempt.PASS_THROUGH - found, preempt.PASS_THROUGH - found


def test_user_code_under_the_packages_own_frames_is_not_a_safe_point() -> None:
    # A key's __eq__ runs inside context's lookup: were the lookup holding a
    # lock, preempting there would keep it held. A function started by
    # WaitGroup.go runs under its wrapper, which holds nothing.
    seen: dict[str, bool] = {}

    class Key:
        def __eq__(self, other: object) -> bool:
            seen["under lookup"] = preempt.preemptible_stack(sys._getframe())
            return self is other

        __hash__ = object.__hash__

    def under_wait_group() -> None:
        seen["under WaitGroup.go"] = preempt.preemptible_stack(sys._getframe())

    def main() -> None:
        context.with_value(context.background(), Key(), 1).value(Key())
        wg = WaitGroup()
        wg.go(under_wait_group)
        wg.wait()
        seen["main"] = preempt.preemptible_stack(sys._getframe())

    run(main)
    assert seen == {"under lookup": False, "under WaitGroup.go": True, "main": True}


@pytest.mark.allow_goroutine_leaks  # the leaked goroutine, on purpose
def test_leaks_stops_the_world_while_a_goroutine_spins() -> None:
    # runtime.leaks() holds every other worker in its scheduler for the scan.
    # Without the GIL it used to raise when a worker ran a goroutine that
    # never yields; preemption now brings that worker there.
    def main() -> str:
        started, stop, wg = atomic.Bool(), atomic.Bool(), WaitGroup()

        def spinner() -> None:
            started.store(True)
            spin_until(stop)

        go(Chan[None]().recv)  # leaks: nothing else can reach its channel
        wait_until_blocked(1, "chan receive")
        wg.go(spinner)
        spin_until(started)
        leaked = runtime.leaks()
        stop.store(True)
        wg.wait()
        return leaked

    leaked = run(main, gomaxprocs=2)
    assert "[chan receive (leaked)]" in leaked, leaked


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupted_run_unwinds_a_preempted_goroutine() -> None:
    # Ctrl-C unwinds every goroutine of the run (see test_unwind). One that
    # was preempted waits inside the event that preempted it, where
    # GreenletExit cannot pass on 3.12+ (a __del__): it must still unwind,
    # not carry on spinning on the worker that unwinds it. (The loop is a
    # function of its own: early 3.12 and 3.13 releases skip the handlers of
    # the frame whose jump event raises; see goroutines._runtime.preempt.)
    unwound: list[str] = []

    def spin() -> None:
        while True:
            pass

    def spinner(started: Chan[None]) -> None:
        started.close()
        try:
            spin()
        finally:
            unwound.append("finally ran")

    def main() -> None:
        started: Chan[None] = Chan()
        go(spinner, started)
        started.recv()
        gtime.sleep(0.03)  # the spinner is preempted for this timer
        raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(main, gomaxprocs=1)
    assert unwound == ["finally ran"]
    assert time.monotonic() - start < PATIENCE


def test_an_unwound_goroutine_that_parks_before_its_next_event_leaves_nothing_armed() -> None:
    # The preempted spinner is unwound (GreenletExit where it was switched
    # away), but the next thing it does is park, not run user code, so the
    # event that would raise GreenletExit never comes: it unwinds from the
    # park instead. Its run's end must forget it, or the monitoring events
    # would stay on, for every thread, for good.
    unwound: list[str] = []
    stop = [False]

    def spinner(started: Chan[None]) -> None:
        started.close()
        try:
            while not stop[0]:
                pass
            Chan().recv()
        finally:
            unwound.append("finally ran")

    def main() -> None:
        started: Chan[None] = Chan()
        go(spinner, started)
        started.recv()
        gtime.sleep(0.03)  # the spinner is preempted for this timer
        stop[0] = True
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(main, gomaxprocs=1)
    assert unwound == ["finally ran"]
    assert not preempt._dying
    assert not preempt._armed


@pytest.mark.parametrize("procs", [1, 2])
def test_preempted_goroutines_pass_every_value_exactly_once(
    procs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stress of preemption against the channels: eight goroutines each
    # compute for 30 ms (longer than the 10 ms a goroutine may run while
    # others wait) between sends, and a consumer that also computes takes
    # every value. Preempted goroutines resume where they were, so every
    # value arrives exactly once and in order per sender.
    senders, per_sender = 8, 6

    def compute(seconds: float) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            pass

    def sender(k: int, out: Chan[tuple[int, int]]) -> None:
        for i in range(per_sender):
            compute(0.03)
            out.send((k, i))

    def main() -> dict[int, list[int]]:
        out: Chan[tuple[int, int]] = Chan(4)
        wg = WaitGroup()
        for k in range(senders):
            wg.go(sender, k, out)
        got: dict[int, list[int]] = {k: [] for k in range(senders)}
        for _ in range(senders * per_sender):
            k, i = out.recv()
            got[k].append(i)
            compute(0.002)
        wg.wait()
        return got

    preemptions = [0]
    switch_away = preempt._switch_away

    def counted(worker: Any, g: Any) -> None:
        preemptions[0] += 1
        switch_away(worker, g)

    monkeypatch.setattr(preempt, "_switch_away", counted)
    got = run(main, gomaxprocs=procs)
    assert got == {k: list(range(per_sender)) for k in range(senders)}
    # 3.11 preempts the main thread's worker only, and later (see the README).
    least = 10 if preempt.MECHANISM == "monitoring" else 1 if procs == 1 else 0
    assert preemptions[0] >= least, "the stress barely preempted anything"
