"""The race detector's core (``goroutines._race.detector``) and the
happens-before edges of every primitive.

Instrumented code calls ``read_attr``/``write_attr``/... before each access
(``goroutines._race.instrument``); here the tests call them by hand (``R``),
so each test says exactly which accesses happen. Every test runs with both
implementations of those functions and of the clocks' inner loop:
detector.py's, the reference, and the compiled ones (``_sink.c``). A racy program must be reported
once per pair of code locations, with ``gomaxprocs`` 1 as with 2 (races are
logical, not physical); a race-free one must stay quiet.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

import goroutines
import goroutines.time as gtime
from goroutines import Chan, atomic, context, go, run, runtime, select, semaphore, sync
from goroutines._race import detector as race
from goroutines._race import reported, sink
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(60)

R: Any = race  # the sink functions the tests call (``sinks`` picks them)


@pytest.fixture(autouse=True, params=["python"] if race.PURE_PYTHON else ["python", "compiled"])
def sinks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """detector.py's Python functions, or the compiled ones (``_sink.c``):
    the sinks, and the clocks' inner loop (``_raise_all``). With
    ``GOROUTINES_PURE`` set, the Python ones only."""
    if request.param == "python":
        monkeypatch.setattr(race, "_raise_all", race._raise_all_python)
        return
    assert race.COMPILED, "the compiled sinks (goroutines._race._sink) were not built"
    monkeypatch.setattr(sys.modules[__name__], "R", sink)


class Box:
    x: Any = 0


def races_in(fn: Callable[[], Any], procs: int, capfd: pytest.CaptureFixture[str]) -> str:
    """Run ``fn`` as main with the race detector; return its stderr, checked
    against the count it reports."""
    before = reported()

    def main() -> None:
        fn()
        verify_none()  # waits for the goroutines still finishing

    run(main, gomaxprocs=procs, race=True)
    err = capfd.readouterr().err
    found = reported() - before
    assert err.count("WARNING: DATA RACE") == found, err
    if found:
        assert err.rstrip().endswith(f"Found {found} data race(s)"), err
    else:
        assert err == ""
    return err


def write_x(box: Box) -> None:
    R.write_attr(box, "x").x = 1


def read_x(box: Box) -> Any:
    return R.read_attr(box, "x").x


# ---- racy programs: reported -------------------------------------------------------


def test_two_unsynchronised_writes_are_reported_with_both_stacks(
    procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    box = Box()

    def main() -> None:
        done: Chan[None] = Chan()
        for _ in range(2):
            go(lambda: (write_x(box), done.send(None)))
        done.recv()
        done.recv()

    err = races_in(main, procs, capfd)
    assert err.count("WARNING: DATA RACE") == 1, err
    assert "Write at attribute 'x' of Box object at 0x" in err
    assert "Previous write at attribute 'x' of Box object at 0x" in err
    assert "  write_x()\n      " + __file__ in err
    assert err.count("created at:\n  test_two_unsynchronised_writes_are_reported") == 2, err


def test_a_write_racing_with_main_s_read(procs: int, capfd: pytest.CaptureFixture[str]) -> None:
    box = Box()

    def main() -> None:
        done: Chan[None] = Chan()

        def writer() -> None:
            write_x(box)
            done.send(None)

        go(writer)
        gtime.sleep(0.01)
        read_x(box)  # not ordered after the write: the receive comes later
        done.recv()

    err = races_in(main, procs, capfd)
    assert "Read at attribute 'x'" in err and "by main goroutine:" in err
    assert "Previous write at attribute 'x'" in err


def test_a_global_and_list_items_are_locations(
    procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    items = [0, 0]

    def main() -> None:
        done: Chan[None] = Chan()

        def worker(i: int) -> None:
            R.write_item(items, 0)[0] = i  # both write item 0: a race
            R.read_item(items, 1)  # both only read item 1: no race
            R.write_global("counter")  # both write the global: a race
            done.send(None)

        go(worker, 1)
        go(worker, 2)
        done.recv()
        done.recv()

    err = races_in(main, procs, capfd)
    assert "item 0 of list at 0x" in err
    assert "item 1 of list" not in err
    assert f"global 'counter' of module {__name__}" in err
    assert err.count("WARNING: DATA RACE") == 2, err


def test_a_repeat_in_the_same_epoch_is_checked_again_after_another_goroutine_s_access(
    procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    # The writer writes x twice in one epoch, at two lines; the reader reads it
    # in between (``steps`` orders them with no happens-before edge: the
    # detector never sees it). The second write must not take the fast path
    # of the first one's epoch: both writes race with the read, two reports.
    box = Box()
    steps: list[str] = []

    def main() -> None:
        wg = sync.WaitGroup()

        def writer() -> None:
            write_x(box)
            steps.append("written")
            while len(steps) < 2:
                runtime.gosched()
            R.write_attr(box, "x").x = 2  # the second write, at its own line

        def reader() -> None:
            while not steps:
                runtime.gosched()
            read_x(box)
            steps.append("read")

        wg.go(writer)
        wg.go(reader)
        wg.wait()

    err = races_in(main, procs, capfd)
    assert err.count("WARNING: DATA RACE") == 2, err
    assert err.count("Previous read at attribute 'x'") == 1, err


def test_an_access_after_a_goroutine_s_first_edges_is_ordered_by_its_later_ones(
    procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    # The writer synchronises (receives) before it first touches shared
    # state: its time is left out of the clocks until then ("silent actors"),
    # and its send after the write must still order the write.
    box = Box()

    def main() -> None:
        start: Chan[None] = Chan()
        written: Chan[None] = Chan()

        def writer() -> None:
            start.recv()
            write_x(box)
            written.send(None)

        go(writer)
        start.send(None)
        written.recv()
        read_x(box)

    assert races_in(main, procs, capfd) == ""


def test_an_access_after_a_silent_goroutine_s_send_is_not_ordered_by_it(
    procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    box = Box()

    def main() -> None:
        sent: Chan[None] = Chan()
        done: Chan[None] = Chan()

        def writer() -> None:
            sent.send(None)  # before its first access: nothing it does later is ordered
            write_x(box)
            done.send(None)

        go(writer)
        sent.recv()
        read_x(box)
        done.recv()

    err = races_in(main, procs, capfd)
    assert err.count("WARNING: DATA RACE") == 1, err


def test_goroutines_that_touch_no_shared_location_stay_out_of_the_clocks(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # A pipeline of stages that only pass values on (as the prime sieve's
    # filters): the last stage's clock holds none of the stages before it, so
    # a channel operation does not cost more as the pipeline grows.
    box = Box()
    known: list[int] = []

    def main() -> None:
        write_x(box)  # main is recorded: its entry travels
        head: Chan[int] = Chan()
        source = head
        for _ in range(20):
            destination: Chan[int] = Chan()
            go(lambda a, b: b.send(a.recv() + 1), source, destination)
            source = destination
        head.send(0)
        assert source.recv() == 20
        me = race.active.actor() if race.active is not None else None
        assert me is not None
        clock = {**me.clock.base, **me.clock.own}
        known.extend(tid for tid, time in clock.items() if time and tid != me.tid)
        read_x(box)

    assert races_in(main, 2, capfd) == ""
    assert known == [], known  # main's own time comes back to it through the stages


def test_a_buffered_channel_as_a_queue_does_not_order_a_waiting_receiver(
    procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    # Go's memory model: only the k-th receive happens before the (k+C)-th
    # send completes. A send into a free slot is not ordered after a receive
    # that is waiting, so the worker's write races with main's read.
    box = Box()

    def main() -> None:
        jobs: Chan[int] = Chan(10)
        done: Chan[None] = Chan()

        def worker() -> None:
            write_x(box)
            jobs.recv()
            done.send(None)

        go(worker)
        gtime.sleep(0.01)
        jobs.send(1)
        read_x(box)
        done.recv()

    assert "WARNING: DATA RACE" in races_in(main, procs, capfd)


def test_a_race_is_reported_once_per_pair_of_locations(capfd: pytest.CaptureFixture[str]) -> None:
    box = Box()

    def main() -> None:
        wg = sync.WaitGroup()
        for _ in range(20):
            wg.go(write_x, box)
        wg.wait()

    err = races_in(main, 1, capfd)
    assert err.count("WARNING: DATA RACE") == 1, err


# ---- race-free programs: quiet ----------------------------------------------------


def ordered_by(sync_kind: str) -> Callable[[], None]:
    """A program whose goroutine writes, then synchronises with main by
    ``sync_kind``, after which main reads: race-free in Go's memory model."""
    box = Box()

    def main() -> None:
        if sync_kind == "go":
            write_x(box)
            done: Chan[None] = Chan()
            go(lambda: (read_x(box), done.send(None)))
            done.recv()
            return
        if sync_kind == "unbuffered recv->send":
            # the receive happens before the send completes
            ch: Chan[int] = Chan()
            go(lambda: (ch.recv(), write_x(box), ch.recv()))
            ch.send(1)
            ch.send(2)
            return
        ch = Chan()
        buffered: Chan[int] = Chan(1)
        mu = sync.Mutex()
        rw = sync.RWMutex()
        wg = sync.WaitGroup()
        once = sync.Once()
        flag = atomic.Bool()
        sem = semaphore.Weighted(1)
        ctx, cancel = context.with_cancel(context.background())
        cond = sync.Cond(sync.Mutex())
        ready = [False]

        def writer() -> None:
            if sync_kind == "mutex":
                with mu:
                    write_x(box)
                return
            if sync_kind == "rwmutex":
                with rw:
                    write_x(box)
                return
            if sync_kind == "semaphore":
                sem.acquire(ctx)
                write_x(box)
                sem.release()
                return
            if sync_kind == "once":
                once.do(lambda: write_x(box))
                return
            write_x(box)
            if sync_kind == "unbuffered send->recv":
                ch.send(None)
            elif sync_kind == "buffered send->recv":
                buffered.send(1)
            elif sync_kind == "close":
                ch.close()
            elif sync_kind == "select":
                select((ch.send, None))
            elif sync_kind == "waitgroup":
                wg.done()
            elif sync_kind == "atomic":
                flag.store(True)
            elif sync_kind == "context":
                cancel()
            elif sync_kind == "cond":
                with cond.l:  # type: ignore[attr-defined]
                    ready[0] = True
                    cond.signal()

        if sync_kind == "waitgroup":
            wg.add(1)
        go(writer)
        if sync_kind in ("mutex", "rwmutex", "semaphore"):
            gtime.sleep(0.01)
            lock, unlock = {
                "mutex": (mu.lock, mu.unlock),
                "rwmutex": (rw.rlock, rw.runlock),
                "semaphore": (lambda: sem.acquire(ctx), sem.release),
            }[sync_kind]
            for _ in range(100):  # until the writer has been in and out
                lock()
                done_writing = Box.x != box.x or "x" in vars(box)
                if done_writing:
                    read_x(box)
                    unlock()
                    return
                unlock()
                gtime.sleep(0.01)
            raise AssertionError("the writer never wrote")
        if sync_kind in ("unbuffered send->recv", "close"):
            ch.recv()
        elif sync_kind == "buffered send->recv":
            buffered.recv()
        elif sync_kind == "select":
            select(ch.recv)
        elif sync_kind == "waitgroup":
            wg.wait()
        elif sync_kind == "once":
            gtime.sleep(0.01)  # the writer's do comes first, and calls its f
            once.do(lambda: None)
        elif sync_kind == "atomic":
            while not flag.load():
                goroutines.runtime.gosched()
        elif sync_kind == "context":
            ctx.done().recv()
        elif sync_kind == "cond":
            with cond.l:  # type: ignore[attr-defined]
                while not ready[0]:
                    cond.wait()
        read_x(box)

    return main


SYNCS = [
    "go",
    "unbuffered send->recv",
    "unbuffered recv->send",
    "buffered send->recv",
    "close",
    "select",
    "mutex",
    "rwmutex",
    "waitgroup",
    "once",
    "atomic",
    "context",
    "cond",
    "semaphore",
]


@pytest.mark.parametrize("sync_kind", SYNCS)
def test_ordered_accesses_are_not_reported(
    sync_kind: str, procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    assert races_in(ordered_by(sync_kind), procs, capfd) == ""


def test_a_buffered_channel_as_a_semaphore_is_race_free(
    procs: int, capfd: pytest.CaptureFixture[str]
) -> None:
    box = Box()

    def main() -> None:
        sem: Chan[None] = Chan(1)
        wg = sync.WaitGroup()

        def inc() -> None:
            sem.send(None)
            R.write_attr(box, "x").x += 1
            sem.recv()

        for _ in range(10):
            wg.go(inc)
        wg.wait()

    assert races_in(main, procs, capfd) == ""


def test_blocking_and_after_func_and_threads_are_edges(capfd: pytest.CaptureFixture[str]) -> None:
    box = Box()

    def in_thread() -> None:
        read_x(box)
        write_x(box)

    def main() -> None:
        write_x(box)
        goroutines.blocking(in_thread)  # call -> fn -> return
        read_x(box)
        fired: Chan[None] = Chan()
        write_x(box)
        gtime.after_func(0.001, lambda: (read_x(box), fired.send(None)))
        fired.recv()
        write_x(box)
        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
        read_x(box)

    assert races_in(main, 2, capfd) == ""


def test_a_dead_object_s_history_does_not_meet_a_new_one_at_its_address(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Each goroutine writes a fresh object of its own; CPython reuses the
    # addresses of the dead ones. Without forgetting the dead, a new object
    # at an old address would "race" with the old one's writer.
    def main() -> None:
        wg = sync.WaitGroup()

        def fresh() -> None:
            for _ in range(50):
                box = Box()
                write_x(box)
                del box
                gc.collect(0)

        for _ in range(4):
            wg.go(fresh)
        wg.wait()

    assert races_in(main, 2, capfd) == ""


def test_accesses_outside_a_race_session_cost_nothing_and_report_nothing(
    capfd: pytest.CaptureFixture[str],
) -> None:
    box = Box()
    write_x(box)
    assert read_x(box) == 1
    assert race.active is None
    assert capfd.readouterr().err == ""


def test_run_race_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="race must be a bool"):
        run(lambda: None, race=1)  # type: ignore[arg-type]
