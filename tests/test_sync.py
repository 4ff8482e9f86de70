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

import pytest
from conftest import PATIENCE, parse_stack, recv_within, run_python, wait_until_blocked

import goroutines.time as gtime
from goroutines import Chan, default, go, run, runtime, select, sync
from goroutines.sync import WaitGroup

pytestmark = pytest.mark.timeout(60)

PROCS = [1, 2]


@pytest.fixture(params=PROCS, ids=["procs1", "procs2"])
def procs(request: pytest.FixtureRequest) -> int:
    return request.param  # type: ignore[no-any-return]


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
        return sum(recv_within(released) for _ in range(3))

    assert run(main, gomaxprocs=procs) == 3


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
        return len(got)

    assert run(main, gomaxprocs=procs) == 1000


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
    assert [reason for reason, _ in dump.values()] == ["sync.WaitGroup.Wait"]


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
    # A plain thread locks and unlocks in a tight loop without ever pausing; a
    # goroutine waiting for the mutex gets it on the next unlock.
    def thread(mu: sync.Mutex, stop: threading.Event, started: Chan[None]) -> None:
        started.send(None)
        while not stop.is_set():
            mu.lock()
            mu.unlock()

    def main() -> float:
        mu = sync.Mutex()
        stop = threading.Event()
        started: Chan[None] = Chan()
        start_thread(thread, mu, stop, started)
        recv_within(started)
        begin = time.monotonic()
        try:
            for _ in range(100):
                mu.lock()
                mu.unlock()
        finally:
            stop.set()
        return time.monotonic() - begin

    assert run(main) < 5.0


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
    assert [reason for reason, _ in dump.values()] == ["sync.Mutex.Lock"]


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
        "sync.WaitGroup.Wait",
        "sync.Mutex.Lock",
        "sync.Mutex.Lock",
    ]
