"""``goroutines.errgroup``: API.md's contract and the meaning of
``golang.org/x/sync/errgroup``'s tests, under gomaxprocs 1 and 2 and across
plain threads.

Concurrency is measured, not assumed: member functions block on channels
while the dump (``wait_until_blocked``) shows how many run at once, and a
lock-guarded counter records the most that ever did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from conftest import PATIENCE, is_done, recv_within, wait_until_blocked

from goroutines import Chan, default, errgroup, go, run, runtime, select
from goroutines.context import Canceled, background, cause, with_cancel
from goroutines.errgroup import Group, with_context

pytestmark = pytest.mark.timeout(60)


def fail_with(exc: Exception) -> None:
    raise exc


def succeed() -> None:
    pass


# Go's table: each case is the errors (None = success) the group's functions return.
E1, E2 = ValueError("errgroup_test: 1"), ValueError("errgroup_test: 2")
CASES: list[list[Exception | None]] = [[], [None], [E1], [E1, None], [E1, E2], [None, E1, E2]]


def first_error(errors: list[Exception | None]) -> Exception | None:
    return next((e for e in errors if e is not None), None)


def run_in_order(group: Group, errors: list[Exception | None]) -> None:
    """Start one function per entry and let each finish before the next
    starts, so that "first" is well defined."""
    for err in errors:
        finished: Chan[None] = Chan()

        def member(err: Exception | None = err, finished: Chan[None] = finished) -> None:
            try:
                if err is not None:
                    raise err
            finally:
                finished.close()

        group.go(member)
        recv_within(finished, ok=True)


# ---- Group -----------------------------------------------------------------------------


@pytest.mark.parametrize("errors", CASES)
def test_zero_group_raises_the_first_error(procs: int, errors: list[Exception | None]) -> None:
    # x/sync's TestZeroGroup.
    def main() -> Exception | None:
        group = Group()
        run_in_order(group, errors)
        try:
            group.wait()
        except Exception as exc:
            return exc
        return None

    assert run(main, gomaxprocs=procs) is first_error(errors)


def test_wait_waits_for_every_function_before_raising(procs: int) -> None:
    def main() -> list[str]:
        group = Group()
        release: Chan[None] = Chan()
        events: list[str] = []

        def slow() -> None:
            release.recv()
            events.append("slow returned")

        group.go(fail_with, E1)
        group.go(slow)
        waited: Chan[BaseException] = Chan(1)

        def waiter() -> None:
            try:
                group.wait()
            except Exception as exc:
                events.append("wait raised")
                waited.send(exc)

        go(waiter)
        wait_until_blocked(1, "sync.WaitGroup.Wait")
        assert events == []  # E1 is known, but slow has not returned
        release.send(None)
        assert recv_within(waited) is E1
        return events

    assert run(main, gomaxprocs=procs) == ["slow returned", "wait raised"]


def test_go_passes_arguments(procs: int) -> None:
    def main() -> list[int]:
        group = Group()
        out: Chan[int] = Chan(10)
        for i in range(10):
            group.go(lambda a, *, b: out.send(a * b), i, b=2)
        group.wait()
        return sorted(out.recv() for _ in range(10))  # type: ignore[type-var]

    assert run(main, gomaxprocs=procs) == [2 * i for i in range(10)]


def test_wait_with_nothing_started_returns_at_once() -> None:
    Group().wait()
    assert run(lambda: Group().wait()) is None


@pytest.mark.allow_goroutine_leaks  # the run ends by an exception: main is abandoned
def test_base_exceptions_are_not_swallowed() -> None:
    # Only Exceptions are errors; KeyboardInterrupt & co. escape the goroutine
    # and end the run, as a panic ends a Go program.
    class Fatal(BaseException):
        pass

    def main() -> None:
        group = Group()
        group.go(fail_with, Fatal())  # type: ignore[arg-type]
        group.wait()
        select()

    with pytest.raises(Fatal):
        run(main)


# ---- with_context ----------------------------------------------------------------------


@pytest.mark.parametrize("errors", CASES)
def test_with_context_is_cancelled_by_the_first_error_or_by_wait(
    procs: int, errors: list[Exception | None]
) -> None:
    # x/sync's TestWithContext, plus the cause.
    def main() -> None:
        group, ctx = with_context(background())
        run_in_order(group, errors)
        expected = first_error(errors)
        assert is_done(ctx) == (expected is not None)
        if expected is not None:
            assert cause(ctx) is expected
            assert isinstance(ctx.err(), Canceled)
        try:
            group.wait()
        except Exception as exc:
            assert exc is expected
        else:
            assert expected is None
        assert is_done(ctx)  # wait cancels it in any case
        assert isinstance(ctx.err(), Canceled)
        assert cause(ctx) is (expected if expected is not None else ctx.err())

    run(main, gomaxprocs=procs)


def test_first_error_cancels_the_others_through_the_context(procs: int) -> None:
    # The pattern errgroup exists for: siblings watch ctx.done() and give up.
    def main() -> tuple[int, Exception | None]:
        group, ctx = with_context(background())
        gave_up: Chan[None] = Chan(5)

        def sibling() -> None:
            ctx.done().recv()
            gave_up.send(None)

        for _ in range(5):
            group.go(sibling)
        wait_until_blocked(5, "chan receive")
        group.go(fail_with, E1)
        try:
            group.wait()
        except Exception as exc:
            return len(gave_up), exc
        return len(gave_up), None

    assert run(main, gomaxprocs=procs) == (5, E1)


def test_with_context_derives_from_its_parent(procs: int) -> None:
    def main() -> bool:
        parent, cancel = with_cancel(background())
        group, ctx = with_context(parent)
        group.go(ctx.done().recv)
        wait_until_blocked(1, "chan receive")
        cancel()
        group.wait()
        return ctx.err() is parent.err()

    assert run(main, gomaxprocs=procs)


# ---- limits ----------------------------------------------------------------------------


class Gauge:
    """Counts members running at once; remembers the most ever (a lock, so it
    is exact with gomaxprocs 2 and threads too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.now -= 1


@pytest.mark.parametrize("limit", [1, 4])
def test_set_limit_bounds_concurrency(procs: int, limit: int) -> None:
    # x/sync's TestGoLimit: many members, each yielding while inside.
    def main() -> int:
        group = Group()
        group.set_limit(limit)
        gauge = Gauge()

        def member() -> None:
            with gauge:
                for _ in range(3):
                    runtime.gosched()

        for _ in range(200):
            group.go(member)
        group.wait()
        return gauge.most

    assert run(main, gomaxprocs=procs) == limit


def test_go_blocks_at_the_limit_until_a_member_returns(procs: int) -> None:
    def main() -> list[int]:
        group = Group()
        group.set_limit(3)
        gates = [Chan[None]() for _ in range(5)]
        started: Chan[int] = Chan()
        launched: Chan[None] = Chan()

        def member(i: int) -> None:
            started.send(i)
            gates[i].recv()

        def launcher() -> None:
            for i in range(5):
                group.go(member, i)
            launched.close()

        go(launcher)
        order = [recv_within(started) for _ in range(3)]
        wait_until_blocked(3, "chan receive")  # three members inside
        wait_until_blocked(1, "chan send")  # the launcher waits for a slot
        assert select(started.recv, default)[0] == 1  # and no fourth member started
        gates[order[0]].send(None)  # one returns: the fourth starts
        order.append(recv_within(started))
        assert select(started.recv, default)[0] == 1
        for i in order[1:]:
            gates[i].send(None)
        order.append(recv_within(started))
        gates[order[-1]].send(None)
        recv_within(launched, ok=True)
        group.wait()
        return sorted(order)

    assert run(main, gomaxprocs=procs) == list(range(5))


def test_try_go_refuses_past_the_limit(procs: int) -> None:
    # x/sync's TestTryGo.
    def main() -> list[bool]:
        group = Group()
        limit = 10
        group.set_limit(limit)
        release: Chan[None] = Chan()
        results = [group.try_go(release.recv) for _ in range(limit)]
        results.append(group.try_go(succeed))  # the eleventh is refused
        release.send(None)  # one member returns ...
        wait_until_blocked(limit - 1, "chan receive")
        while not group.try_go(release.recv):  # ... and its slot is free again
            runtime.gosched()
        results.append(group.try_go(succeed))
        release.close()
        group.wait()
        group.set_limit(-1)  # no limit: try_go always succeeds
        results += [group.try_go(release.recv) for _ in range(2 * limit)]
        group.wait()
        return results

    assert run(main, gomaxprocs=procs) == [True] * 10 + [False, False] + [True] * 20


def test_try_go_failing_member_still_counts_as_first_error() -> None:
    def main() -> Exception | None:
        group = Group()
        assert group.try_go(fail_with, E2)
        try:
            group.wait()
        except Exception as exc:
            return exc
        return None

    assert run(main) is E2


def test_set_limit_while_members_run_raises(procs: int) -> None:
    def main() -> str:
        group = Group()
        group.set_limit(2)
        release: Chan[None] = Chan()
        group.go(release.recv)
        with pytest.raises(RuntimeError, match=r"modify limit while 1 goroutines"):
            group.set_limit(5)
        release.send(None)
        group.wait()
        group.set_limit(5)  # fine once they all returned
        return "ok"

    assert run(main, gomaxprocs=procs) == "ok"


def test_set_limit_rejects_non_ints() -> None:
    with pytest.raises(TypeError):
        Group().set_limit(1.5)  # type: ignore[arg-type]


# ---- plain threads ---------------------------------------------------------------------


def test_group_used_from_a_plain_thread() -> None:
    # Outside any run: the members run on the background runtime.
    group, ctx = with_context(background())
    out: list[int] = []
    lock = threading.Lock()

    def member(i: int) -> None:
        with lock:
            out.append(i)

    for i in range(20):
        group.go(member, i)
    group.go(fail_with, E1)
    with pytest.raises(ValueError) as info:
        group.wait()
    assert info.value is E1 and cause(ctx) is E1
    assert sorted(out) == list(range(20))


def test_plain_thread_waits_for_goroutine_members(
    procs: int, start_thread: Callable[..., threading.Thread]
) -> None:
    def thread(group: Group, out: Chan[object]) -> None:
        try:
            group.wait()
        except Exception as exc:
            out.send(exc)
            return
        out.send("no error")

    def main() -> object:
        group = Group()
        release: Chan[None] = Chan()
        group.go(release.recv)
        group.go(fail_with, E2)
        out: Chan[object] = Chan(1)
        start_thread(thread, group, out)
        release.send(None)
        return recv_within(out, PATIENCE)

    assert run(main, gomaxprocs=procs) is E2


def test_module_is_reexported() -> None:
    import goroutines

    assert goroutines.errgroup is errgroup
    assert "errgroup" in goroutines.__all__
