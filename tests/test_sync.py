"""``goroutines.sync``: API.md's table and the meaning of Go's ``src/sync`` tests
(``waitgroup_test.go``, ``mutex_test.go``, ``rwmutex_test.go``, ``once_test.go``,
``oncefunc_test.go``, ``cond_test.go``), under gomaxprocs 1 and 2 and across
plain threads.

Nothing here waits by sleeping: goroutines wait on channels and WaitGroups,
and ``wait_until_blocked`` reads the dump to know that a goroutine is parked.
Time is bounded only where it is the point (fairness), and generously.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    PATIENCE,
    Interrupted,
    Peer,
    parse_stack,
    recv_within,
    run_python,
    send_within,
    wait_until_blocked,
)

import goroutines.time as gtime
from goroutines import Chan, atomic, default, go, run, runtime, select, sync
from goroutines.sync import WaitGroup
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(60)


def is_closed_or_ready(ch: Chan[object]) -> bool:
    """A non-blocking receive: whether something (or a close) was there."""
    index, _ = select(ch.recv, default)
    return index == 0


# ---- programs run in a fresh interpreter -----------------------------------------------------

PRELUDE = """\
import sys
from goroutines import DeadlockError, Chan, go, run, sync


def report(main):
    try:
        result = run(main)
    except DeadlockError as exc:
        print(exc)
        sys.exit(2)
    print(result)
"""


def run_program(tmp_path: Path, body: str, gomaxprocs: int) -> tuple[int, str, str, Path]:
    """Run PRELUDE + ``body`` from a file (so dumps name its lines)."""
    path = tmp_path / "prog.py"
    path.write_text(PRELUDE + "\n" + textwrap.dedent(body))
    code = f"exec(compile(open({str(path)!r}).read(), {str(path)!r}, 'exec'))"
    returncode, out, err = run_python(code, env={"GOMAXPROCS": str(gomaxprocs)})
    return returncode, out, err, path


def line_of(path: Path, marker: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in the program")


def expect_deadlock(
    tmp_path: Path, body: str, gomaxprocs: int, marker: str
) -> dict[int, tuple[str, str]]:
    """Run a program that must deadlock; return its dump, checking that
    goroutine 1 is blocked at the line holding ``marker``."""
    returncode, out, err, path = run_program(tmp_path, body, gomaxprocs)
    assert returncode == 2, (out, err)
    lines = out.splitlines()
    assert lines[:2] == ["all goroutines are asleep - deadlock!", ""], out
    dump = parse_stack(out)
    assert f"prog.py:{line_of(path, marker)}" in dump[1][1], out
    return dump


# ---- WaitGroup ---------------------------------------------------------------------------


def test_waitgroup_releases_waiters_only_when_the_counter_is_zero(procs: int) -> None:
    # Go's TestWaitGroup: n goroutines call wg1.done then wg2.wait; main waits
    # for wg1, checks none got past wg2, then releases them one done at a time.
    def main() -> int:
        n = 16
        for _ in range(8):
            wg1, wg2 = WaitGroup(), WaitGroup()
            wg1.add(n)
            wg2.add(n)
            exited: Chan[bool] = Chan(n)

            def waiter(wg1: WaitGroup, wg2: WaitGroup, exited: Chan[bool]) -> None:
                wg1.done()
                wg2.wait()
                exited.send(True)

            for _ in range(n):
                go(waiter, wg1, wg2, exited)
            wg1.wait()
            for _ in range(n):
                assert not is_closed_or_ready(exited), "WaitGroup released group too soon"
                wg2.done()
            for _ in range(n):
                recv_within(exited)
        return n

    assert run(main, gomaxprocs=procs) == 16


def test_waitgroup_wait_with_zero_counter_returns_at_once() -> None:
    def main() -> bool:
        wg = WaitGroup()
        wg.wait()
        wg.add(2)
        wg.add(-2)
        wg.wait()
        return True

    assert run(main)


def test_waitgroup_negative_counter_raises_value_error() -> None:
    # Go's TestWaitGroupMisuse.
    wg = WaitGroup()
    wg.add(1)
    wg.done()
    with pytest.raises(ValueError, match=r"^sync: negative WaitGroup counter$"):
        wg.done()
    with pytest.raises(ValueError, match="negative WaitGroup counter"):
        WaitGroup().add(-1)


def test_waitgroup_counter_is_unchanged_by_a_negative_add() -> None:
    def main() -> bool:
        wg = WaitGroup()
        wg.add(1)
        with pytest.raises(ValueError):
            wg.add(-2)
        released: Chan[None] = Chan()

        def waiter() -> None:
            wg.wait()
            released.close()

        go(waiter)
        wait_until_blocked(1, "sync.WaitGroup.Wait")
        assert not is_closed_or_ready(released)
        wg.done()
        recv_within(released, ok=True)
        return True

    assert run(main)


def test_waitgroup_add_with_a_negative_delta_releases_waiters(procs: int) -> None:
    def main() -> int:
        wg = WaitGroup()
        wg.add(5)
        released: Chan[int] = Chan()
        for i in range(3):
            go(lambda i=i: (wg.wait(), released.send(i)))
        wait_until_blocked(3, "sync.WaitGroup.Wait")
        wg.add(-5)
        returned = sum(recv_within(released) for _ in range(3))
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == 3


@pytest.mark.allow_goroutine_leaks  # the dumped goroutine is left blocked
def test_waitgroup_wait_shows_its_wait_reason() -> None:
    def main() -> str:
        wg = WaitGroup()
        wg.add(1)
        go(wg.wait)
        wait_until_blocked(1, "sync.WaitGroup.Wait")
        wg.done()
        return "ok"

    assert run(main) == "ok"


def test_waitgroup_can_be_reused_after_wait(procs: int) -> None:
    def main() -> list[int]:
        wg = WaitGroup()
        totals = []
        for round_ in range(20):
            results: list[int] = []
            for i in range(round_ + 1):
                wg.go(results.append, i)
            wg.wait()
            totals.append(len(results))
        return totals

    assert run(main, gomaxprocs=procs) == list(range(1, 21))


def test_waitgroup_done_happens_before_the_wait_it_releases(procs: int) -> None:
    # Writes made before ``done`` are seen after ``wait`` (Go's TestWaitGroupRace).
    def main() -> list[int]:
        wg = WaitGroup()
        slots = [0] * 100

        def fill(i: int) -> None:
            gtime.sleep(0) if i % 7 == 0 else None
            slots[i] = i * i

        for i in range(100):
            wg.go(fill, i)
        wg.wait()
        return slots

    assert run(main, gomaxprocs=procs) == [i * i for i in range(100)]


def test_waitgroup_go_runs_the_function_with_its_arguments(procs: int) -> None:
    # Go 1.25's TestWaitGroupGo.
    def main() -> int:
        wg = WaitGroup()
        got: list[tuple[int, str]] = []
        lock = sync.Mutex()

        def record(i: int, *, tag: str) -> None:
            with lock:
                got.append((i, tag))

        for i in range(1000):
            wg.go(record, i, tag=f"t{i}")
        wg.wait()
        assert sorted(got) == sorted((i, f"t{i}") for i in range(1000))
        returned = len(got)
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == 1000


@pytest.mark.allow_goroutine_leaks  # the run ends by an exception: main is abandoned
def test_waitgroup_go_counts_down_when_the_function_raises() -> None:
    class Boom(Exception):
        pass

    def explode() -> None:
        raise Boom("boom")

    def main() -> None:
        wg = WaitGroup()
        wg.go(explode)
        wg.wait()  # released by the done of the raising goroutine, or the run ends first
        select()  # the run ends with Boom, not a deadlock

    with pytest.raises(Boom) as info:
        run(main)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "goroutine 2" in notes and "explode" in notes, notes


def test_waitgroup_across_plain_threads(procs: int, start_thread: Callable[..., object]) -> None:
    # Goroutines and plain threads are counted by one WaitGroup; a plain thread
    # waits for goroutines and a goroutine waits for plain threads.
    def worker_thread(started: Chan[None], wg: WaitGroup, out: list[int], i: int) -> None:
        started.send(None)  # registers this thread before main parks
        out.append(i)
        wg.done()

    def waiting_thread(wg: WaitGroup, finished: Chan[int], out: list[int]) -> None:
        wg.wait()
        finished.send(len(out))

    def main() -> tuple[int, int]:
        wg = WaitGroup()
        out: list[int] = []
        started: Chan[None] = Chan()
        wg.add(4)
        for i in range(4):
            start_thread(worker_thread, started, wg, out, i)
            recv_within(started)
        wg.wait()
        from_threads = len(out)

        wg2 = WaitGroup()
        out2: list[int] = []
        finished: Chan[int] = Chan()
        wg2.add(50)
        start_thread(waiting_thread, wg2, finished, out2)
        for i in range(50):
            go(lambda i=i: (out2.append(i), wg2.done()))
        return from_threads, recv_within(finished)

    assert run(main, gomaxprocs=procs) == (4, 50)


def test_waitgroup_from_plain_threads_only() -> None:
    wg = WaitGroup()
    out: list[int] = []
    wg.add(8)

    def body(i: int) -> None:
        out.append(i)
        wg.done()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    wg.wait()
    assert sorted(out) == list(range(8))
    for thread in threads:
        thread.join(PATIENCE)


def test_waitgroup_wait_forever_is_a_deadlock(procs: int, tmp_path: Path) -> None:
    dump = expect_deadlock(
        tmp_path,
        """
        def main():
            wg = sync.WaitGroup()
            wg.add(1)
            wg.wait()  # never done

        report(main)
        """,
        procs,
        "# never done",
    )
    assert [reason for reason, _ in dump.values()] == ["sync.WaitGroup.Wait (leaked)"]


# ---- Mutex -------------------------------------------------------------------------------


def hammer_mutex(mu: sync.Mutex, loops: int, state: list[int]) -> None:
    """Go's hammerMutex: lock (sometimes with try_lock), update shared state in
    two steps with a switch in between, unlock."""
    for i in range(loops):
        if i % 3 == 0:
            if mu.try_lock():
                mu.unlock()
            continue
        mu.lock()
        before = state[0]
        if i % 5 == 0:
            runtime.gosched()
        state[0] = before + 1
        mu.unlock()


def counted_increments(loops: int) -> int:
    return sum(1 for i in range(loops) if i % 3 != 0)


def test_mutex_excludes(procs: int) -> None:
    # Go's TestMutex: 10 goroutines hammer one mutex; no update is lost.
    def main() -> int:
        mu = sync.Mutex()
        state = [0]
        wg = WaitGroup()
        for _ in range(10):
            wg.go(hammer_mutex, mu, 1000, state)
        wg.wait()
        return state[0]

    assert run(main, gomaxprocs=procs) == 10 * counted_increments(1000)


def test_mutex_excludes_across_goroutines_and_plain_threads(
    procs: int, start_thread: Callable[..., object]
) -> None:
    def thread(started: Chan[None], mu: sync.Mutex, state: list[int], wg: WaitGroup) -> None:
        started.send(None)
        hammer_mutex(mu, 2000, state)
        wg.done()

    def main() -> int:
        mu = sync.Mutex()
        state = [0]
        wg = WaitGroup()
        started: Chan[None] = Chan()
        wg.add(3)
        for _ in range(3):
            start_thread(thread, started, mu, state, wg)
            recv_within(started)
        for _ in range(5):
            wg.go(hammer_mutex, mu, 2000, state)
        wg.wait()
        return state[0]

    assert run(main, gomaxprocs=procs) == 8 * counted_increments(2000)


def test_mutex_unlock_of_unlocked_raises() -> None:
    # Go's TestMutexMisuse: Unlock, and Lock-Unlock-Unlock, are fatal in Go.
    mu = sync.Mutex()
    with pytest.raises(RuntimeError, match=r"^sync: unlock of unlocked mutex$"):
        mu.unlock()
    mu.lock()
    mu.unlock()
    with pytest.raises(RuntimeError, match="unlock of unlocked mutex"):
        mu.unlock()
    assert mu.try_lock()  # a failed unlock leaves it usable


def test_mutex_try_lock() -> None:
    mu = sync.Mutex()
    assert mu.try_lock()
    assert not mu.try_lock()
    assert mu.locked()
    mu.unlock()
    assert not mu.locked()
    assert mu.try_lock()
    mu.unlock()


def test_mutex_is_a_context_manager_that_unlocks_on_error() -> None:
    mu = sync.Mutex()
    with mu:
        assert mu.locked()
    assert not mu.locked()
    with pytest.raises(KeyError), mu:
        raise KeyError("x")
    assert not mu.locked()


def test_mutex_may_be_unlocked_by_another_goroutine(procs: int) -> None:
    def main() -> bool:
        mu = sync.Mutex()
        mu.lock()
        go(mu.unlock)
        mu.lock()  # blocks until the other goroutine unlocks
        mu.unlock()
        return True

    assert run(main, gomaxprocs=procs)


def test_mutex_waiters_are_served_first_come_first_served(procs: int) -> None:
    def main() -> list[int]:
        mu = sync.Mutex()
        order: list[int] = []
        wg = WaitGroup()
        mu.lock()

        def waiter(i: int) -> None:
            mu.lock()
            order.append(i)
            mu.unlock()

        for i in range(10):
            wg.go(waiter, i)
            wait_until_blocked(i + 1, "sync.Mutex.Lock")  # in this order
        mu.unlock()
        wg.wait()
        return order

    assert run(main, gomaxprocs=procs) == list(range(10))


def test_mutex_fairness(procs: int) -> None:
    # Go's TestMutexFairness: one goroutine holds the mutex almost all the time
    # (lock, short sleep, unlock, again); another must still get it 10 times
    # promptly. A mutex that let the unlocker barge back in would starve it.
    def main() -> int:
        mu = sync.Mutex()
        stop: Chan[None] = Chan()
        hammer_done: Chan[None] = Chan()

        def hammer() -> None:
            while not is_closed_or_ready(stop):
                mu.lock()
                gtime.sleep(0.0001)
                mu.unlock()
            hammer_done.close()

        go(hammer)
        finished: Chan[int] = Chan(1)

        def waiter() -> None:
            for _ in range(10):
                gtime.sleep(0.0001)
                mu.lock()
                mu.unlock()
            finished.send(10)

        go(waiter)
        got = recv_within(finished, timeout=10.0)
        stop.close()
        recv_within(hammer_done, ok=True)
        return got

    assert run(main, gomaxprocs=procs) == 10


def test_mutex_fairness_against_a_tight_loop_in_a_plain_thread(
    start_thread: Callable[..., object],
) -> None:
    # A plain thread holds the mutex almost all the time: it relocks right
    # after each unlock, and holds it across a short sleep. A goroutine that
    # waits for the mutex still gets it at the next unlock, 20 times, promptly.
    def thread(mu: sync.Mutex, stop: threading.Event, started: Chan[None]) -> None:
        started.send(None)
        while not stop.is_set():
            mu.lock()
            time.sleep(0.0001)
            mu.unlock()

    def contender(mu: sync.Mutex, finished: Chan[None]) -> None:
        for _ in range(20):
            while not mu.locked():  # make sure it must wait for the thread
                gtime.sleep(0.0001)
            mu.lock()
            mu.unlock()
        finished.close()

    def main() -> bool:
        mu = sync.Mutex()
        stop = threading.Event()
        started: Chan[None] = Chan()
        finished: Chan[None] = Chan()
        start_thread(thread, mu, stop, started)
        recv_within(started)
        go(contender, mu, finished)
        try:
            recv_within(finished, timeout=10.0, ok=True)
        finally:
            stop.set()
        return True

    assert run(main)


@pytest.mark.allow_goroutine_leaks  # the dumped goroutine is left blocked
def test_mutex_lock_shows_its_wait_reason() -> None:
    def main() -> str:
        mu = sync.Mutex()
        mu.lock()
        go(mu.lock)
        wait_until_blocked(1, "sync.Mutex.Lock")
        mu.unlock()
        return "ok"

    assert run(main) == "ok"


def test_mutex_plain_thread_waits_for_a_goroutine(start_thread: Callable[..., object]) -> None:
    def thread(mu: sync.Mutex, got: Chan[str]) -> None:
        mu.lock()
        got.send("locked")
        mu.unlock()

    def main() -> str:
        mu = sync.Mutex()
        got: Chan[str] = Chan()
        mu.lock()
        start_thread(thread, mu, got)
        assert not is_closed_or_ready(got)
        mu.unlock()
        return recv_within(got)  # type: ignore[no-any-return]

    assert run(main) == "locked"


def test_mutex_locked_twice_in_one_goroutine_is_a_deadlock(procs: int, tmp_path: Path) -> None:
    dump = expect_deadlock(
        tmp_path,
        """
        def main():
            mu = sync.Mutex()
            mu.lock()
            mu.lock()  # second lock

        report(main)
        """,
        procs,
        "# second lock",
    )
    assert [reason for reason, _ in dump.values()] == ["sync.Mutex.Lock (leaked)"]


def test_mutex_deadlock_between_two_goroutines_names_both(procs: int, tmp_path: Path) -> None:
    dump = expect_deadlock(
        tmp_path,
        """
        def grab(first, second, ready, go_on):
            first.lock()
            ready.send(None)
            go_on.recv()
            second.lock()

        def main():
            a, b = sync.Mutex(), sync.Mutex()
            ready, go_on = Chan(), Chan()
            go(grab, a, b, ready, go_on)
            go(grab, b, a, ready, go_on)
            ready.recv()
            ready.recv()
            go_on.close()
            wg = sync.WaitGroup()
            wg.add(1)
            wg.wait()  # main waits

        report(main)
        """,
        procs,
        "# main waits",
    )
    assert [reason for _, (reason, _) in sorted(dump.items())] == [
        "sync.WaitGroup.Wait (leaked)",
        "sync.Mutex.Lock (leaked)",
        "sync.Mutex.Lock (leaked)",
    ]


# ---- RWMutex -----------------------------------------------------------------------------


def test_rwmutex_readers_hold_it_together(procs: int) -> None:
    # Go's TestParallelReaders: every reader holds the read lock at once.
    def main() -> int:
        rw = sync.RWMutex()
        n = 8
        holding: Chan[None] = Chan()
        release: Chan[None] = Chan()
        wg = WaitGroup()

        def reader() -> None:
            rw.rlock()
            holding.send(None)
            release.recv()
            rw.runlock()

        for _ in range(n):
            wg.go(reader)
        for _ in range(n):
            recv_within(holding)  # all n hold it now
        assert not rw.try_lock()
        release.close()
        wg.wait()
        assert rw.try_lock()
        rw.unlock()
        return n

    assert run(main, gomaxprocs=procs) == 8


def hammer_rwmutex(rw: sync.RWMutex, activity: atomic.Int, loops: int, writer_every: int) -> None:
    """Go's hammerRWMutex: a writer sees no one else inside, a reader no writer."""
    for i in range(loops):
        if i % writer_every == 0:
            with rw:
                n = activity.add(10_000)
                if i % 3 == 0:
                    runtime.gosched()
                assert n == 10_000, n
                activity.add(-10_000)
        else:
            rw.rlock()
            n = activity.add(1)
            if i % 3 == 0:
                runtime.gosched()
            assert n < 10_000, n
            activity.add(-1)
            rw.runlock()


@pytest.mark.parametrize("writer_every", [2, 10, 100])
def test_rwmutex_hammer(procs: int, writer_every: int) -> None:
    def main() -> int:
        rw = sync.RWMutex()
        activity = atomic.Int()
        wg = WaitGroup()
        for _ in range(10):
            wg.go(hammer_rwmutex, rw, activity, 300, writer_every)
        wg.wait()
        return activity.load()

    assert run(main, gomaxprocs=procs) == 0


def test_rwmutex_hammer_across_plain_threads(
    procs: int, start_thread: Callable[..., object]
) -> None:
    def thread(started: Chan[None], rw: sync.RWMutex, state: list[int], wg: WaitGroup) -> None:
        started.send(None)
        for i in range(500):
            if i % 4 == 0:
                with rw:
                    state[0] += 1
            else:
                with rw.rlocker():
                    _ = state[0]
        wg.done()

    def main() -> int:
        rw = sync.RWMutex()
        state = [0]
        wg = WaitGroup()
        started: Chan[None] = Chan()
        wg.add(2)
        for _ in range(2):
            start_thread(thread, started, rw, state, wg)
            recv_within(started)
        for _ in range(4):
            wg.add(1)
            go(thread, Chan(1), rw, state, wg)
        wg.wait()
        return state[0]

    assert run(main, gomaxprocs=procs) == 6 * 125


def test_rwmutex_blocked_writer_keeps_new_readers_out(procs: int) -> None:
    def main() -> list[str]:
        rw = sync.RWMutex()
        events: list[str] = []
        wg = WaitGroup()
        rw.rlock()

        def writer() -> None:
            with rw:
                events.append("writer")

        def late_reader() -> None:
            with rw.rlocker():
                events.append("late reader")

        wg.go(writer)
        wait_until_blocked(1, "sync.RWMutex.Lock")
        assert not rw.try_rlock(), "a new reader got in past a waiting writer"
        wg.go(late_reader)
        wait_until_blocked(1, "sync.RWMutex.RLock")
        events.append("first reader out")
        rw.runlock()
        wg.wait()
        return events

    assert run(main, gomaxprocs=procs) == ["first reader out", "writer", "late reader"]


def test_rwmutex_unlock_admits_all_waiting_readers_before_the_next_writer(procs: int) -> None:
    def main() -> list[str]:
        rw = sync.RWMutex()
        events: list[str] = []
        readers_in: Chan[None] = Chan()
        release: Chan[None] = Chan()
        wg = WaitGroup()
        rw.lock()

        def reader() -> None:
            rw.rlock()
            readers_in.send(None)
            release.recv()
            events.append("reader out")
            rw.runlock()

        def writer() -> None:
            rw.lock()
            events.append("second writer")
            rw.unlock()

        wg.go(reader)
        wait_until_blocked(1, "sync.RWMutex.RLock")
        wg.go(writer)
        wait_until_blocked(1, "sync.RWMutex.Lock")
        wg.go(reader)
        wait_until_blocked(2, "sync.RWMutex.RLock")
        rw.unlock()
        recv_within(readers_in)  # both readers are in together,
        recv_within(readers_in)  # the second writer still waits
        assert events == []
        release.close()
        wg.wait()
        return events

    assert run(main, gomaxprocs=procs) == ["reader out", "reader out", "second writer"]


def test_rwmutex_writers_are_served_in_order(procs: int) -> None:
    def main() -> list[int]:
        rw = sync.RWMutex()
        order: list[int] = []
        wg = WaitGroup()
        rw.lock()

        def writer(i: int) -> None:
            with rw:
                order.append(i)

        for i in range(5):
            wg.go(writer, i)
            wait_until_blocked(i + 1, "sync.RWMutex.Lock")
        rw.unlock()
        wg.wait()
        return order

    assert run(main, gomaxprocs=procs) == list(range(5))


def test_rwmutex_try_lock_and_try_rlock() -> None:
    rw = sync.RWMutex()
    assert rw.try_rlock()
    assert rw.try_rlock()
    assert not rw.try_lock()
    rw.runlock()
    rw.runlock()
    assert rw.try_lock()
    assert not rw.try_lock()
    assert not rw.try_rlock()
    rw.unlock()
    with rw:
        assert not rw.try_rlock()
    assert rw.try_rlock()
    rw.runlock()


def test_rwmutex_rlocker_is_the_read_side() -> None:
    rw = sync.RWMutex()
    locker = rw.rlocker()
    locker.lock()
    locker.lock()
    assert not rw.try_lock()
    locker.unlock()
    locker.unlock()
    assert rw.try_lock()
    rw.unlock()
    with rw.rlocker():
        assert rw.try_rlock()
        rw.runlock()
        assert not rw.try_lock()
    assert rw.try_lock()
    rw.unlock()


@pytest.mark.parametrize(
    ("misuse", "message"),
    [
        (lambda rw: rw.unlock(), "sync: Unlock of unlocked RWMutex"),
        (lambda rw: rw.runlock(), "sync: RUnlock of unlocked RWMutex"),
        (lambda rw: (rw.rlock(), rw.unlock()), "sync: Unlock of unlocked RWMutex"),
        (lambda rw: (rw.lock(), rw.runlock()), "sync: RUnlock of unlocked RWMutex"),
        (lambda rw: (rw.lock(), rw.unlock(), rw.unlock()), "sync: Unlock of unlocked RWMutex"),
        (lambda rw: rw.rlocker().unlock(), "sync: RUnlock of unlocked RWMutex"),
    ],
    ids=["unlock", "runlock", "rlock-unlock", "lock-runlock", "unlock-twice", "rlocker"],
)
def test_rwmutex_misuse_raises(misuse: Callable[[sync.RWMutex], object], message: str) -> None:
    # Go's TestRWMutexMisuse (fatal errors in Go).
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        misuse(sync.RWMutex())


def test_rwmutex_plain_thread_writer_waits_for_goroutine_readers(
    start_thread: Callable[..., object],
) -> None:
    def thread(rw: sync.RWMutex, got: Chan[str]) -> None:
        with rw:
            got.send("written")

    def main() -> str:
        rw = sync.RWMutex()
        got: Chan[str] = Chan()
        rw.rlock()
        start_thread(thread, rw, got)
        assert not is_closed_or_ready(got)
        rw.runlock()
        return recv_within(got)  # type: ignore[no-any-return]

    assert run(main) == "written"


def test_rwmutex_recursive_read_lock_with_a_waiting_writer_is_a_deadlock(
    procs: int, tmp_path: Path
) -> None:
    dump = expect_deadlock(
        tmp_path,
        """
        from goroutines import runtime

        def main():
            rw = sync.RWMutex()
            rw.rlock()
            go(rw.lock)
            while rw.try_rlock():  # until the writer waits
                rw.runlock()
                runtime.gosched()
            rw.rlock()  # recursive read lock

        report(main)
        """,
        procs,
        "# recursive read lock",
    )
    assert [reason for _, (reason, _) in sorted(dump.items())] == [
        "sync.RWMutex.RLock (leaked)",
        "sync.RWMutex.Lock (leaked)",
    ]


# ---- Once --------------------------------------------------------------------------------


def test_once_runs_the_function_exactly_once(procs: int) -> None:
    # Go's TestOnce: every do returns only after the one call; the count is 1.
    def main() -> list[int]:
        once = sync.Once()
        calls = [0]
        seen: list[int] = []
        wg = WaitGroup()

        def increment() -> None:
            runtime.gosched()
            calls[0] += 1

        def caller() -> None:
            once.do(increment)
            seen.append(calls[0])

        for _ in range(10):
            wg.go(caller)
        wg.wait()
        once.do(increment)
        return seen + calls

    assert run(main, gomaxprocs=procs) == [1] * 11


def test_once_later_callers_wait_until_the_function_returned(procs: int) -> None:
    def main() -> list[str]:
        once = sync.Once()
        release: Chan[None] = Chan()
        events: list[str] = []
        wg = WaitGroup()

        def slow() -> None:
            release.recv()
            events.append("f returned")

        def second() -> None:
            once.do(lambda: events.append("second f ran"))
            events.append("second do returned")

        wg.go(once.do, slow)
        wait_until_blocked(1, "chan receive")
        wg.go(second)
        wait_until_blocked(1, "sync.Mutex.Lock")
        release.send(None)
        wg.wait()
        return events

    assert run(main, gomaxprocs=procs) == ["f returned", "second do returned"]


def test_once_a_raising_function_counts_as_done() -> None:
    # Go's TestOncePanic.
    once = sync.Once()
    with pytest.raises(ZeroDivisionError):
        once.do(lambda: 1 / 0)
    called = []
    once.do(lambda: called.append(1))
    assert called == []


def test_once_waiters_are_released_when_the_function_raises(procs: int) -> None:
    def main() -> list[str]:
        once = sync.Once()
        release: Chan[None] = Chan()
        events: list[str] = []
        wg = WaitGroup()

        def failing() -> None:
            release.recv()
            raise KeyError("f")

        def first() -> None:
            try:
                once.do(failing)
            except KeyError:
                events.append("first raised")

        def second() -> None:
            once.do(lambda: events.append("second f ran"))
            events.append("second returned")

        wg.go(first)
        wait_until_blocked(1, "chan receive")
        wg.go(second)
        wait_until_blocked(1, "sync.Mutex.Lock")
        release.send(None)
        wg.wait()
        return sorted(events)

    assert run(main, gomaxprocs=procs) == ["first raised", "second returned"]


def test_once_across_goroutines_and_plain_threads(
    procs: int, start_thread: Callable[..., object]
) -> None:
    def main() -> list[int]:
        once = sync.Once()
        calls: list[int] = []
        results: Chan[int] = Chan(16)

        def caller() -> None:
            once.do(lambda: calls.append(1))
            results.send(len(calls))

        for _ in range(4):
            start_thread(caller)
        for _ in range(8):
            go(caller)
        return [recv_within(results) for _ in range(12)] + calls

    assert run(main, gomaxprocs=procs) == [1] * 13


def test_once_called_from_its_own_function_is_a_deadlock(tmp_path: Path) -> None:
    dump = expect_deadlock(
        tmp_path,
        """
        def main():
            once = sync.Once()
            once.do(lambda: once.do(print))  # recursive do

        report(main)
        """,
        1,
        "# recursive do",
    )
    assert [reason for reason, _ in dump.values()] == ["sync.Mutex.Lock (leaked)"]


def test_once_func_calls_f_once(procs: int) -> None:
    # Go's TestOnceFunc.
    def main() -> int:
        calls = [0]

        def f() -> None:
            calls[0] += 1

        g = sync.once_func(f)
        wg = WaitGroup()
        for _ in range(20):
            wg.go(g)
        wg.wait()
        assert g() is None
        return calls[0]

    assert run(main, gomaxprocs=procs) == 1


def test_once_value_returns_the_one_result(procs: int) -> None:
    # Go's TestOnceValue.
    def main() -> list[object]:
        calls = [0]

        def f() -> object:
            calls[0] += 1
            runtime.gosched()
            return object()

        g = sync.once_value(f)
        results: list[object] = []
        wg = WaitGroup()
        for _ in range(20):
            wg.go(lambda: results.append(g()))
        wg.wait()
        results.append(g())
        assert calls == [1]
        return results

    results = run(main, gomaxprocs=procs)
    assert len(results) == 21
    assert all(result is results[0] for result in results)


@pytest.mark.parametrize("make", [sync.once_func, sync.once_value], ids=["func", "value"])
def test_once_func_and_value_reraise_the_same_exception(
    make: Callable[[Callable[[], object]], Callable[[], object]],
) -> None:
    # Go's TestOnceFuncPanic / TestOnceValuePanic: every call panics with the same value.
    calls = [0]

    def f() -> object:
        calls[0] += 1
        raise ValueError("x")

    g = make(f)
    raised = []
    for _ in range(5):
        with pytest.raises(ValueError) as info:
            g()
        raised.append(info.value)
    assert calls == [1]
    assert all(exc is raised[0] for exc in raised)
    depth = len(list(_traceback_frames(raised[0])))
    assert depth < 10, "the traceback grows call after call"


def _traceback_frames(exc: BaseException) -> list[object]:
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def test_once_value_concurrent_callers_wait_for_the_first(procs: int) -> None:
    def main() -> list[int]:
        release: Chan[None] = Chan()

        def f() -> int:
            release.recv()
            return 42

        g = sync.once_value(f)
        out: list[int] = []
        wg = WaitGroup()
        for _ in range(5):
            wg.go(lambda: out.append(g()))
        wait_until_blocked(4, "sync.Mutex.Lock")
        release.send(None)
        wg.wait()
        return out

    assert run(main, gomaxprocs=procs) == [42] * 5


# ---- Cond --------------------------------------------------------------------------------


def test_cond_signal_wakes_one_waiter(procs: int) -> None:
    # Go's TestCondSignal.
    def main() -> int:
        mu = sync.Mutex()
        cond = sync.Cond(mu)
        n = 2
        running: Chan[None] = Chan(n)
        awake: Chan[None] = Chan(n)

        def waiter() -> None:
            mu.lock()
            running.send(None)
            cond.wait()
            awake.send(None)
            mu.unlock()

        for _ in range(n):
            go(waiter)
        for _ in range(n):
            recv_within(running)  # the waiter holds mu until it is in wait
        woken = 0
        while n > 0:
            assert not is_closed_or_ready(awake), "goroutine not asleep"
            mu.lock()
            cond.signal()
            mu.unlock()
            recv_within(awake)  # the signal woke one
            assert not is_closed_or_ready(awake), "too many goroutines awake"
            n -= 1
            woken += 1
        cond.signal()  # no waiter: nothing happens
        return woken

    assert run(main, gomaxprocs=procs) == 2


def test_cond_signal_wakes_the_longest_waiter(procs: int) -> None:
    # Go's TestCondSignalGenerations: waiters wake in the order they waited.
    def main() -> list[int]:
        mu = sync.Mutex()
        cond = sync.Cond(mu)
        n = 100
        running: Chan[int] = Chan(n)
        awake: Chan[int] = Chan(n)

        def waiter(i: int) -> None:
            mu.lock()
            running.send(i)
            cond.wait()
            awake.send(i)
            mu.unlock()

        for i in range(n):
            go(waiter, i)
            assert recv_within(running) == i
        order = []
        for _ in range(n):
            mu.lock()
            cond.signal()
            mu.unlock()
            order.append(recv_within(awake))
        return order

    assert run(main, gomaxprocs=procs) == list(range(100))


def test_cond_broadcast_wakes_all(procs: int) -> None:
    # Go's TestCondBroadcast, several generations.
    def main() -> list[int]:
        mu = sync.Mutex()
        cond = sync.Cond(mu)
        n = 50
        rounds = 5
        running: Chan[int] = Chan(n)
        awake: Chan[int] = Chan(n)
        exit_flag = [False]

        def waiter(i: int) -> None:
            mu.lock()
            while not exit_flag[0]:
                running.send(i)
                cond.wait()
                awake.send(i)
            mu.unlock()

        for i in range(n):
            go(waiter, i)
        woken_per_round = []
        for round_ in range(rounds):
            for _ in range(n):
                recv_within(running)
            if round_ == rounds - 1:
                mu.lock()
                exit_flag[0] = True
                mu.unlock()
            mu.lock()
            cond.broadcast()
            mu.unlock()
            seen = {recv_within(awake) for _ in range(n)}
            woken_per_round.append(len(seen))
        return woken_per_round

    assert run(main, gomaxprocs=procs) == [50] * 5


def test_cond_signal_does_not_wake_a_later_waiter(procs: int) -> None:
    # Go's TestCondSignalStealing: a signal goes to a goroutine waiting when it
    # was sent, not to one that starts waiting after.
    def main() -> list[str]:
        mu = sync.Mutex()
        cond = sync.Cond(mu)
        woke: Chan[str] = Chan(2)

        def waiter(name: str, ready: Chan[None]) -> None:
            mu.lock()
            ready.send(None)
            cond.wait()
            mu.unlock()
            woke.send(name)

        first_ready: Chan[None] = Chan()
        go(waiter, "early", first_ready)
        recv_within(first_ready)
        mu.lock()
        cond.signal()
        mu.unlock()
        second_ready: Chan[None] = Chan()
        go(waiter, "late", second_ready)
        recv_within(second_ready)
        first = recv_within(woke)
        wait_until_blocked(1, "sync.Cond.Wait")
        cond.broadcast()
        return [first, recv_within(woke)]

    assert run(main, gomaxprocs=procs) == ["early", "late"]


def test_cond_wait_holds_the_lock_again_when_it_returns() -> None:
    def main() -> bool:
        mu = sync.Mutex()
        cond = sync.Cond(mu)
        ready = [False]
        result: Chan[bool] = Chan(1)

        def waiter() -> None:
            with mu:
                while not ready[0]:
                    cond.wait()
                result.send(mu.locked())

        go(waiter)
        wait_until_blocked(1, "sync.Cond.Wait")
        assert not mu.locked()  # wait released it
        with mu:
            ready[0] = True
            cond.signal()
        return recv_within(result)  # type: ignore[no-any-return]

    assert run(main)


def test_cond_with_rwmutex_read_side(procs: int) -> None:
    def main() -> int:
        rw = sync.RWMutex()
        cond = sync.Cond(rw.rlocker())
        assert cond.l is not None
        awake: Chan[None] = Chan(3)

        def waiter() -> None:
            cond.l.lock()
            cond.wait()
            cond.l.unlock()
            awake.send(None)

        for _ in range(3):
            go(waiter)
        wait_until_blocked(3, "sync.Cond.Wait")
        with rw:  # no reader holds it while they wait
            cond.broadcast()
        for _ in range(3):
            recv_within(awake)
        return 3

    assert run(main, gomaxprocs=procs) == 3


def test_cond_across_plain_threads(start_thread: Callable[..., object]) -> None:
    def thread(mu: sync.Mutex, cond: sync.Cond, state: list[int], out: Chan[int]) -> None:
        with mu:
            while state[0] == 0:
                cond.wait()
        out.send(state[0])

    def main() -> list[int]:
        mu = sync.Mutex()
        cond = sync.Cond(mu)
        state = [0]
        out: Chan[int] = Chan(2)
        start_thread(thread, mu, cond, state, out)
        start_thread(thread, mu, cond, state, out)
        with mu:
            state[0] = 7
            cond.broadcast()
        return [recv_within(out), recv_within(out)]

    assert run(main) == [7, 7]


def test_cond_wait_without_the_lock_raises_and_leaves_no_waiter() -> None:
    def main() -> bool:
        cond = sync.Cond(sync.Mutex())
        with pytest.raises(RuntimeError, match="unlock of unlocked mutex"):
            cond.wait()
        cond.signal()  # must not wake this goroutine's next park
        ch: Chan[int] = Chan()
        go(lambda: ch.send(5))
        received = ch.recv()
        verify_none()  # the goroutines it started have finished
        return received == 5

    assert run(main)


# ---- a plain thread interrupted while it waits (Ctrl-C) ------------------------------------
# A signal handler runs on the main thread, also while it waits for a lock, and
# may raise (KeyboardInterrupt). The wait it gave up must not keep anything
# meant for others: an unlock or signal skips it, and what was handed to it as
# it gave up (the mutex, a read or write lock, a signal) goes to the next waiter.
# ``raced``: the hand-over comes in the signal handler, just before the exception.


def lock_and_report(locker: sync.Mutex | sync.RWMutex | Any, got: Chan[str]) -> None:
    with locker:
        got.send("goroutine")


@pytest.mark.parametrize("raced", [False, True], ids=["interrupted", "raced"])
def test_an_interrupted_lock_leaves_the_mutex_to_the_next_waiter(
    peer: Peer, interrupt_main: Callable[..., None], raced: bool
) -> None:
    mu = sync.Mutex()
    got: Chan[str] = Chan(1)
    mu.lock()  # this thread holds it: its second lock waits
    interrupt_main(
        before=lambda: (peer.go(lock_and_report, mu, got), peer.wait_blocked(mu.lock)),
        during=mu.unlock if raced else None,  # hands it to this thread's waiting lock
    )
    with pytest.raises(Interrupted):
        mu.lock()
    if not raced:
        mu.unlock()  # skips the wait given up
    assert recv_within(got) == "goroutine"
    mu.lock()  # waits for the goroutine's unlock: no stale wake-up
    mu.unlock()
    assert not mu.locked()


def test_a_mutex_handed_over_as_the_lock_is_interrupted_is_unlocked_if_nobody_waits(
    interrupt_main: Callable[..., None],
) -> None:
    mu = sync.Mutex()
    mu.lock()
    interrupt_main(during=mu.unlock)
    with pytest.raises(Interrupted):
        mu.lock()
    assert not mu.locked()


@pytest.mark.parametrize("raced", [False, True], ids=["interrupted", "raced"])
def test_an_interrupted_waitgroup_wait_leaves_no_stale_waiter(
    peer: Peer, interrupt_main: Callable[..., None], raced: bool
) -> None:
    wg = WaitGroup()
    wg.add(1)
    interrupt_main(during=wg.done if raced else None)
    with pytest.raises(Interrupted):
        wg.wait()
    if not raced:
        peer.go(wg.done)
    wg.wait()
    ch: Chan[str] = Chan()
    peer.go(ch.send, "after")
    assert recv_within(ch) == "after"  # the wait given up did not leave a wake-up behind


@pytest.mark.parametrize("raced", [False, True], ids=["interrupted", "raced"])
def test_an_interrupted_cond_wait_relocks_and_leaves_the_signal_to_the_next_waiter(
    peer: Peer, interrupt_main: Callable[..., None], raced: bool
) -> None:
    mu = sync.Mutex()
    cond = sync.Cond(mu)
    woken: Chan[str] = Chan(1)

    def waiter() -> None:
        with mu:
            cond.wait()
            woken.send("goroutine")

    mu.lock()
    interrupt_main(
        before=lambda: (peer.go(waiter), peer.wait_blocked(cond.wait)),  # behind this thread
        during=cond.signal if raced else None,  # meant for this thread, which waited first
    )
    with pytest.raises(Interrupted):
        cond.wait()
    assert mu.locked()  # locked again before raising, as before returning
    if not raced:
        cond.signal()  # skips the wait given up
    mu.unlock()
    assert recv_within(woken) == "goroutine"


def test_an_interrupted_writer_lets_the_readers_queued_behind_it_in(
    peer: Peer, interrupt_main: Callable[..., None]
) -> None:
    rw = sync.RWMutex()
    got: Chan[str] = Chan(1)
    rw.rlock()  # this thread reads: its lock() waits
    interrupt_main(
        before=lambda: (peer.go(lock_and_report, rw.rlocker(), got), peer.wait_blocked(rw.rlock))
    )
    with pytest.raises(Interrupted):
        rw.lock()
    assert recv_within(got) == "goroutine"  # no writer waits any more
    rw.runlock()
    rw.lock()
    rw.unlock()


@pytest.mark.parametrize("raced", [False, True], ids=["interrupted", "raced"])
@pytest.mark.parametrize("side", ["lock", "rlock"])
def test_an_rwmutex_wait_interrupted_behind_a_writer_leaves_the_lock_to_the_next_writer(
    peer: Peer, interrupt_main: Callable[..., None], side: str, raced: bool
) -> None:
    rw = sync.RWMutex()
    got: Chan[str] = Chan(1)
    rw.lock()  # this thread writes: its second lock() or its rlock() waits
    interrupt_main(
        before=lambda: (peer.go(lock_and_report, rw, got), peer.wait_blocked(rw.lock)),
        during=rw.unlock if raced else None,  # hands the lock to this thread's wait, queued first
    )
    with pytest.raises(Interrupted):
        getattr(rw, side)()
    if not raced:
        rw.unlock()  # skips the wait given up (a reader: not counted in)
    assert recv_within(got) == "goroutine"
    rw.lock()
    rw.unlock()


def test_an_interrupted_once_waiter_leaves_no_stale_waiter(
    peer: Peer, interrupt_main: Callable[..., None]
) -> None:
    once = sync.Once()
    started: Chan[None] = Chan()
    finish: Chan[None] = Chan()

    def f() -> None:
        started.send(None)
        finish.recv()

    peer.go(once.do, f)
    recv_within(started)
    interrupt_main()
    with pytest.raises(Interrupted):
        once.do(lambda: None)
    send_within(finish, None)
    once.do(lambda: None)  # returns once f has
    ch: Chan[str] = Chan()
    peer.go(ch.send, "after")
    assert recv_within(ch) == "after"
