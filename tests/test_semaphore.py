"""``goroutines.semaphore``: API.md's contract and the meaning of
``golang.org/x/sync/semaphore``'s tests, under gomaxprocs 1 and 2 and across
plain threads.

Waiting is checked through the dump (a blocked ``acquire`` is parked, in
``select`` as in Go), never by sleeping; "blocks forever" is the deadlock
detector's verdict.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest
from conftest import PATIENCE, Interrupted, Peer, recv_within, wait_until_blocked

import goroutines.time as gtime
from goroutines import Chan, DeadlockError, go, run, runtime, semaphore
from goroutines.context import (
    Canceled,
    DeadlineExceeded,
    background,
    with_cancel,
    with_timeout,
)
from goroutines.semaphore import Weighted
from goroutines.sync import WaitGroup
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(60)


def waiters_of(sem: Weighted) -> int:
    """How many acquire calls are queued (an internal)."""
    return len(sem._waiters)


def wait_for_waiters(sem: Weighted, count: int) -> None:
    """Return once ``count`` acquire calls are queued (from a goroutine or a thread)."""
    deadline = time.monotonic() + PATIENCE
    while waiters_of(sem) < count:
        assert time.monotonic() < deadline, f"fewer than {count} waiters after {PATIENCE}s"
        gtime.sleep(0.001)


def acquire_and_report(sem: Weighted, n: int, out: Chan[object], tag: object) -> None:
    """Acquire ``n`` with background(), then send ``tag`` (or the exception) on ``out``."""
    try:
        sem.acquire(background(), n)
    except Exception as exc:
        out.send(exc)
        return
    out.send(tag)


# ---- the basics ------------------------------------------------------------------------


def test_weighted_hammered_never_exceeds_its_size(procs: int) -> None:
    # x/sync's TestWeighted: goroutines acquire and release random weights.
    def main() -> int:
        size = 8
        sem = Weighted(size)
        lock = threading.Lock()
        held = [0, 0]  # now, most ever

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(200):
                n = rng.randint(1, size)
                sem.acquire(background(), n)
                with lock:
                    held[0] += n
                    held[1] = max(held[1], held[0])
                    assert held[0] <= size
                runtime.gosched()
                with lock:
                    held[0] -= n
                sem.release(n)

        wg = WaitGroup()
        for seed in range(16):
            wg.go(worker, seed)
        wg.wait()
        assert sem.try_acquire(size)  # everything came back
        return held[1]

    most = run(main, gomaxprocs=procs)
    assert 1 < most <= 8


def test_release_more_than_held_raises_and_changes_nothing() -> None:
    # x/sync's TestWeightedPanic (Go panics; we raise).
    sem = Weighted(3)
    with pytest.raises(RuntimeError, match=r"^semaphore: released more than held$"):
        sem.release(1)
    assert sem.try_acquire(2)
    with pytest.raises(RuntimeError, match="released more than held"):
        sem.release(3)
    sem.release(2)  # the failed release did not count
    assert sem.try_acquire(3)


def test_try_acquire() -> None:
    # x/sync's TestWeightedTryAcquire.
    sem = Weighted(2)
    tries = []
    sem.acquire(background(), 1)
    tries.append(sem.try_acquire(1))
    tries.append(sem.try_acquire(1))
    sem.release(2)
    tries.append(sem.try_acquire(1))
    sem.acquire(background(), 1)
    tries.append(sem.try_acquire(1))
    assert tries == [True, False, True, False]


def test_acquire_with_timeouts() -> None:
    # x/sync's TestWeightedAcquire.
    sem = Weighted(2)

    def try_acquire(n: int) -> bool:
        ctx, cancel = with_timeout(background(), 0.01)
        try:
            sem.acquire(ctx, n)
        except DeadlineExceeded:
            return False
        finally:
            cancel()
        return True

    def main() -> list[bool]:
        tries = [try_acquire(1), try_acquire(1), try_acquire(1)]
        sem.release(2)
        tries += [try_acquire(1)]
        sem.acquire(background(), 1)
        tries += [try_acquire(1)]
        return tries

    assert run(main) == [True, True, False, True, False]


def test_zero_weight_acquires_at_once_unless_others_wait() -> None:
    sem = Weighted(1)
    sem.acquire(background(), 0)
    assert sem.try_acquire(0)
    assert sem.try_acquire(1)
    assert sem.try_acquire(0)  # nothing free, but nothing asked and nobody waits


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_bad_weights_raise(bad: object) -> None:
    sem = Weighted(2)
    error = ValueError if bad == -1 else TypeError
    with pytest.raises(error):
        sem.try_acquire(bad)  # type: ignore[arg-type]
    with pytest.raises(error):
        sem.release(bad)  # type: ignore[arg-type]
    with pytest.raises(error):
        sem.acquire(background(), bad)  # type: ignore[arg-type]
    with pytest.raises(error):
        Weighted(bad)  # type: ignore[arg-type]


# ---- fairness --------------------------------------------------------------------------


def test_waiters_are_served_first_come_first_served(procs: int) -> None:
    def main() -> list[object]:
        sem = Weighted(1)
        sem.acquire(background(), 1)
        out: Chan[object] = Chan(10)
        for i in range(10):
            go(acquire_and_report, sem, 1, out, i)
            wait_until_blocked(i + 1, "select")  # queued in this order
        order = []
        for _ in range(10):
            sem.release(1)
            order.append(recv_within(out))
        sem.release(1)
        return order

    assert run(main, gomaxprocs=procs) == list(range(10))


def test_a_large_request_at_the_head_blocks_later_small_ones(procs: int) -> None:
    # Units are free for the small request, but the large one came first:
    # serving the small one could starve the large one forever.
    def main() -> list[object]:
        sem = Weighted(5)
        sem.acquire(background(), 3)
        out: Chan[object] = Chan(2)
        go(acquire_and_report, sem, 4, out, "large")
        wait_until_blocked(1, "select")
        go(acquire_and_report, sem, 1, out, "small")
        wait_until_blocked(2, "select")
        assert not sem.try_acquire(1)  # 2 free, yet a waiter is ahead
        assert len(out) == 0
        sem.release(3)  # 5 free: enough for the large one and then the small one
        # Both are granted by this release; on two workers they may report in
        # either order, so the order of the reports says nothing.
        got = sorted([recv_within(out), recv_within(out)])
        assert not sem.try_acquire(1)  # all 5 held
        sem.release(5)
        return got

    assert run(main, gomaxprocs=procs) == ["large", "small"]  # sorted


def test_large_acquire_does_not_starve(procs: int) -> None:
    # x/sync's TestLargeAcquireDoesntStarve: goroutines that keep releasing and
    # re-acquiring one unit each cannot keep a request for all units waiting.
    def main() -> bool:
        n = 4
        sem = Weighted(n)
        running = [True]
        wg = WaitGroup()
        for _ in range(n):
            sem.acquire(background(), 1)

            def churn() -> None:
                while running[0]:
                    runtime.gosched()
                    sem.release(1)
                    sem.acquire(background(), 1)
                sem.release(1)

            wg.go(churn)
        ctx, cancel = with_timeout(background(), PATIENCE)
        sem.acquire(ctx, n)  # raises DeadlineExceeded if starved
        cancel()
        running[0] = False
        sem.release(n)
        wg.wait()
        return sem.try_acquire(n)

    assert run(main, gomaxprocs=procs)


def test_departing_head_lets_the_waiters_behind_it_in(procs: int) -> None:
    # x/sync's TestAllocCancelDoesntStarve: a large waiter at the head gives
    # up; the small one queued behind it, which fits, must be served.
    def main() -> object:
        sem = Weighted(10)
        sem.acquire(background(), 1)
        ctx, cancel = with_cancel(background())
        out: Chan[object] = Chan(2)

        def large() -> None:
            try:
                sem.acquire(ctx, 10)
            except Canceled as exc:
                out.send(exc)

        go(large)
        wait_until_blocked(1, "select")
        go(acquire_and_report, sem, 1, out, "small")
        wait_until_blocked(2, "select")
        cancel()
        results = [recv_within(out), recv_within(out)]
        assert results[0] is ctx.err() or results[1] is ctx.err()
        return next(r for r in results if r is not ctx.err())

    assert run(main, gomaxprocs=procs) == "small"


# ---- contexts --------------------------------------------------------------------------


def test_cancel_while_waiting_raises_the_contexts_error(procs: int) -> None:
    def main() -> int:
        sem = Weighted(1)
        sem.acquire(background(), 1)
        ctx, cancel = with_cancel(background())
        out: Chan[object] = Chan(1)

        def waiter() -> None:
            try:
                sem.acquire(ctx, 1)
            except Canceled as exc:
                out.send(exc)
            else:
                out.send("acquired")

        go(waiter)
        wait_until_blocked(1, "select")
        assert waiters_of(sem) == 1
        cancel()
        assert recv_within(out) is ctx.err()  # the context's own error
        assert waiters_of(sem) == 0
        sem.release(1)
        return int(sem.try_acquire(1))  # the cancelled waiter took nothing

    assert run(main, gomaxprocs=procs) == 1


def test_timeout_while_waiting_raises_deadline_exceeded(procs: int) -> None:
    def main() -> bool:
        sem = Weighted(2)
        sem.acquire(background(), 2)
        ctx, _ = with_timeout(background(), 0.02)
        with pytest.raises(DeadlineExceeded) as info:
            sem.acquire(ctx, 1)
        assert info.value is ctx.err()
        assert waiters_of(sem) == 0
        sem.release(2)
        return sem.try_acquire(2)

    assert run(main, gomaxprocs=procs)


def test_a_done_context_fails_even_when_units_are_free() -> None:
    sem = Weighted(3)
    ctx, cancel = with_cancel(background())
    cancel()
    with pytest.raises(Canceled):
        sem.acquire(ctx, 1)
    assert sem.try_acquire(3)


def test_cancelled_waiters_leave_the_others_queued_in_order(procs: int) -> None:
    def main() -> list[object]:
        sem = Weighted(1)
        sem.acquire(background(), 1)
        out: Chan[object] = Chan(10)
        cancels = []
        for i in range(6):
            ctx, cancel = with_cancel(background())
            cancels.append(cancel)

            def waiter(ctx=ctx, i=i) -> None:  # type: ignore[no-untyped-def]
                try:
                    sem.acquire(ctx, 1)
                except Canceled:
                    return
                out.send(i)

            go(waiter)
            wait_until_blocked(i + 1, "select")
        for i in (0, 2, 3):
            cancels[i]()
        order = []
        for _ in range(3):
            sem.release(1)
            order.append(recv_within(out))
        return order

    assert run(main, gomaxprocs=procs) == [1, 4, 5]


def test_a_request_larger_than_the_size_waits_for_its_context_only(procs: int) -> None:
    # x/sync's TestWeightedDoesntBlockIfTooBig.
    def main() -> bool:
        sem = Weighted(2)
        ctx, cancel = with_cancel(background())
        out: Chan[object] = Chan(1)

        def too_big() -> None:
            try:
                sem.acquire(ctx, 3)
            except Canceled as exc:
                out.send(exc)

        go(too_big)
        wait_until_blocked(1, "chan receive")  # on ctx.done(), not queued
        assert waiters_of(sem) == 0
        for _ in range(10):  # others are not held up
            sem.acquire(background(), 2)
            sem.release(2)
        cancel()
        return recv_within(out) is ctx.err()

    assert run(main, gomaxprocs=procs)


@pytest.mark.allow_goroutine_leaks
def test_a_blocked_acquire_parks_and_can_deadlock() -> None:
    # No busy waiting: with nobody left to release, the detector sees it.
    def main() -> None:
        sem = Weighted(1)
        sem.acquire(background(), 1)
        sem.acquire(background(), 1)

    with pytest.raises(DeadlockError):
        run(main)


@pytest.mark.allow_goroutine_leaks
def test_a_too_large_request_with_background_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(Weighted(1).acquire, background(), 2)


def test_cancels_racing_with_releases_lose_no_units(procs: int) -> None:
    # Waiters whose contexts end while units are handed to them: whichever
    # wins, a failed acquire holds nothing and a successful one is released.
    def main() -> bool:
        size = 3
        sem = Weighted(size)
        rng = random.Random(7)
        wg = WaitGroup()

        def waiter(ctx: object, n: int) -> None:
            try:
                sem.acquire(ctx, n)  # type: ignore[arg-type]
            except (Canceled, DeadlineExceeded):
                return
            runtime.gosched()
            sem.release(n)

        for _ in range(300):
            ctx, cancel = with_cancel(background())
            wg.go(waiter, ctx, rng.randint(1, size))
            if rng.random() < 0.5:
                wg.go(cancel)
            else:
                wg.go(lambda: None)
        wg.wait()
        returned = sem.try_acquire(size) and waiters_of(sem) == 0
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs)


# ---- plain threads ---------------------------------------------------------------------


def test_plain_thread_waits_for_a_goroutines_release(
    procs: int, start_thread: Callable[..., threading.Thread]
) -> None:
    def thread(sem: Weighted, started: Chan[None], out: Chan[str]) -> None:
        started.send(None)
        sem.acquire(background(), 2)
        out.send("thread acquired")
        sem.release(2)

    def main() -> str:
        sem = Weighted(2)
        sem.acquire(background(), 1)
        started: Chan[None] = Chan()
        out: Chan[str] = Chan(1)
        start_thread(thread, sem, started, out)
        recv_within(started)
        wait_for_waiters(sem, 1)  # the thread is queued
        sem.release(1)
        return recv_within(out)  # type: ignore[no-any-return]

    assert run(main, gomaxprocs=procs) == "thread acquired"


def test_plain_threads_only() -> None:
    sem = Weighted(2)
    lock = threading.Lock()
    held = [0, 0]

    def body() -> None:
        for _ in range(100):
            sem.acquire(background(), 1)
            with lock:
                held[0] += 1
                held[1] = max(held[1], held[0])
            with lock:
                held[0] -= 1
            sem.release(1)

    threads = [threading.Thread(target=body) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)
    assert held[1] <= 2 and sem.try_acquire(2)


def test_plain_thread_waiter_is_cancelled_by_its_context() -> None:
    sem = Weighted(1)
    sem.acquire(background(), 1)
    ctx, cancel = with_cancel(background())
    caught: list[BaseException] = []

    def body() -> None:
        try:
            sem.acquire(ctx, 1)
        except Canceled as exc:
            caught.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    wait_for_waiters(sem, 1)
    cancel()
    thread.join(PATIENCE)
    assert caught and caught[0] is ctx.err()
    assert waiters_of(sem) == 0


# ---- a plain thread interrupted while it waits (Ctrl-C) ------------------------------------
# As for goroutines.sync's locks: the acquire given up keeps no units that
# were meant for the next in line; if units were granted to it as it gave up
# (``raced``: in the signal handler, before the exception), it releases them.


@pytest.mark.parametrize("raced", [False, True], ids=["interrupted", "raced"])
def test_an_interrupted_acquire_leaves_the_units_to_the_next_waiter(
    peer: Peer, interrupt_main: Callable[..., None], raced: bool
) -> None:
    sem = Weighted(1)
    got: Chan[object] = Chan(1)
    ctx, cancel = with_cancel(background())  # its after_func must be stopped too

    def acquirer() -> None:
        acquire_and_report(sem, 1, got, "goroutine")
        sem.release(1)

    sem.acquire(ctx)  # this thread holds the unit: its second acquire waits
    interrupt_main(
        before=lambda: (peer.go(acquirer), peer.wait_blocked(sem.acquire)),
        during=sem.release if raced else None,  # grants it to this thread's acquire
    )
    with pytest.raises(Interrupted):
        sem.acquire(ctx)
    if not raced:
        assert waiters_of(sem) == 1  # only the goroutine: the wait given up left
        sem.release()
    assert recv_within(got) == "goroutine"
    sem.acquire(ctx)  # once the goroutine released it: no stale wake-up
    sem.release()
    cancel()
    assert sem.try_acquire(1)


def test_module_is_reexported() -> None:
    import goroutines

    assert goroutines.semaphore is semaphore
    assert "semaphore" in goroutines.__all__
