"""``goroutines.context``: API.md's contract and the meaning of Go's
``src/context/context_test.go`` and ``x_test.go``, under gomaxprocs 1 and 2
and across plain threads.

Nothing waits by sleeping: goroutines wait on done channels, with
``recv_within`` where a wait must end; "never happens" is checked through the
deadlock detector. Time is bounded only where it is the point (deadlines, and
cancelling 10,000 descendants promptly), and generously.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest import PATIENCE, is_done, recv_within, wait_until_blocked

import goroutines.time as gtime
from goroutines import (
    Chan,
    DeadlockError,
    RecvChan,
    context,
    go,
    nilchan,
    run,
    runtime,
    select,
)
from goroutines.context import (
    Canceled,
    Context,
    DeadlineExceeded,
    after_func,
    background,
    cause,
    todo,
    with_cancel,
    with_cancel_cause,
    with_deadline,
    with_timeout,
    with_value,
    without_cancel,
)
from goroutines.sync import WaitGroup
from goroutines.testing import verify_none

pytestmark = pytest.mark.timeout(60)

PROCS = [1, 2]


def children_of(ctx: Context) -> int:
    """How many child records ``ctx`` keeps (an internal: the leak the tests guard)."""
    children = ctx._children  # type: ignore[attr-defined]
    return 0 if children is None else len(children)


def wait_for_goroutines(count: int) -> None:
    """Return once at most ``count`` goroutines exist (call from a goroutine)."""
    deadline = time.monotonic() + PATIENCE
    while runtime.num_goroutine() > count:
        assert time.monotonic() < deadline, runtime.stack()
        gtime.sleep(0.001)


class WrappingContext(Context):
    """A foreign context that only wraps another (Go's ``otherContext``)."""

    def __init__(self, inner: Context) -> None:
        self.inner = inner

    def deadline(self) -> tuple[float | None, bool]:
        return self.inner.deadline()

    def done(self) -> RecvChan[None]:
        return self.inner.done()

    def err(self) -> Exception | None:
        return self.inner.err()

    def value(self, key: object) -> Any:
        return self.inner.value(key)


class OwnDoneContext(Context):
    """A foreign context with a done channel of its own (Go's ``myDoneCtx``)."""

    def __init__(self) -> None:
        self.chan: Chan[None] = Chan()
        self.error: Exception | None = None

    def cancel(self) -> None:
        self.error = Canceled("custom")
        self.chan.close()

    def deadline(self) -> tuple[float | None, bool]:
        return None, False

    def done(self) -> RecvChan[None]:
        return self.chan

    def err(self) -> Exception | None:
        return self.error

    def value(self, key: object) -> Any:
        return None


# ---- the roots -------------------------------------------------------------------------


@pytest.mark.parametrize("root", [background, todo])
def test_roots_are_never_done_and_have_nothing(root: Callable[[], Context]) -> None:
    ctx = root()
    assert ctx is root()
    assert ctx.done() is nilchan
    assert ctx.err() is None
    assert ctx.deadline() == (None, False)
    assert ctx.value("anything") is None
    assert cause(ctx) is None


def test_roots_name_themselves_as_go_does() -> None:
    assert repr(background()) == "context.Background"
    assert repr(todo()) == "context.TODO"
    ctx, cancel = with_cancel(background())
    assert repr(ctx) == "context.Background.WithCancel"
    assert repr(with_value(ctx, "k", 1)) == "context.Background.WithCancel.WithValue('k', 1)"
    assert "WithDeadline(" in repr(with_timeout(ctx, 10)[0])
    cancel()


@pytest.mark.allow_goroutine_leaks
def test_waiting_on_background_done_blocks_forever() -> None:
    with pytest.raises(DeadlockError):
        run(background().done().recv)


def test_errors_are_gos() -> None:
    assert str(Canceled()) == "context canceled"
    assert str(DeadlineExceeded()) == "context deadline exceeded"
    assert issubclass(Canceled, Exception) and not issubclass(Canceled, TimeoutError)
    assert issubclass(DeadlineExceeded, TimeoutError)  # Go: Timeout() is true


@pytest.mark.parametrize("parent", [None, object(), "ctx"])
def test_deriving_from_a_non_context_raises_type_error(parent: Any) -> None:
    for derive in (
        with_cancel,
        with_cancel_cause,
        without_cancel,
        lambda p: with_timeout(p, 1),
        lambda p: with_deadline(p, gtime.now() + 1),
        lambda p: with_value(p, "k", "v"),
        lambda p: after_func(p, lambda: None),
    ):
        with pytest.raises(TypeError):
            derive(parent)


# ---- with_cancel -----------------------------------------------------------------------


def test_with_cancel_tree(procs: int) -> None:
    # Go's TestWithCancel: a context, its child and grandchild are all live
    # until the root is cancelled, then all done with Canceled.
    def main() -> None:
        c1, cancel = with_cancel(background())
        c2, _ = with_cancel(c1)
        c3, _ = with_cancel(c2)
        contexts = [c1, c2, c3]
        for ctx in contexts:
            assert ctx.done() is not nilchan
            assert ctx.err() is None
            assert not is_done(ctx)
        cancel()
        for ctx in contexts:
            recv_within(ctx.done(), ok=True)
            assert isinstance(ctx.err(), Canceled)

    run(main, gomaxprocs=procs)


def test_done_is_the_same_channel_every_time_before_and_after_cancel() -> None:
    ctx, cancel = with_cancel(background())
    done = ctx.done()
    assert ctx.done() is done
    cancel()
    assert ctx.done() is done
    assert done.recv_ok() == (None, False)

    late, cancel_late = with_cancel(background())
    cancel_late()  # done() never asked for before cancel: a closed one is handed out
    assert late.done() is late.done()
    assert late.done().recv_ok() == (None, False)


def test_err_is_the_same_instance_on_every_call() -> None:
    ctx, cancel = with_cancel(background())
    child, _ = with_cancel(ctx)
    cancel()
    err = ctx.err()
    assert isinstance(err, Canceled)
    assert ctx.err() is err and ctx.err() is err
    assert child.err() is child.err()


def test_cancel_is_idempotent_and_keeps_the_first_error() -> None:
    ctx, cancel = with_cancel(background())
    cancel()
    first = ctx.err()
    cancel()
    cancel()
    assert ctx.err() is first


def test_cancelling_a_child_leaves_the_parent_alone() -> None:
    # Go's TestChildFinishesFirst.
    parent, cancel_parent = with_cancel(background())
    child, cancel_child = with_cancel(parent)
    cancel_child()
    assert is_done(child) and isinstance(child.err(), Canceled)
    assert not is_done(parent) and parent.err() is None
    cancel_parent()


def test_child_of_a_cancelled_parent_is_born_cancelled_with_its_error_and_cause() -> None:
    # Go's TestWithCancelCanceledParent.
    parent, cancel = with_cancel_cause(background())
    boom = ValueError("boom")
    cancel(boom)
    for child in (
        with_cancel(parent)[0],
        with_timeout(parent, 60)[0],
        with_value(with_cancel(parent)[0], "k", "v"),
    ):
        assert is_done(child)
        assert child.err() is parent.err()
        assert cause(child) is boom


def test_done_works_in_select(procs: int) -> None:
    def main() -> list[int]:
        ctx, cancel = with_cancel(background())
        work: Chan[int] = Chan()
        results: Chan[int] = Chan()

        def worker() -> None:
            handled = 0
            while True:
                index, _ = select(ctx.done().recv, work.recv)
                if index == 0:
                    results.send(handled)
                    return
                handled += 1

        go(worker)
        for i in range(5):
            work.send(i)
        cancel()
        handled = recv_within(results)
        verify_none()  # the goroutines it started have finished
        return [handled]

    assert run(main, gomaxprocs=procs) == [5]


def test_interlocked_cancels(procs: int) -> None:
    # Go's TestInterlockedCancels: a goroutine cancels the child as soon as
    # the parent is done, while the parent cancels the child too.
    def main() -> bool:
        parent, cancel_parent = with_cancel(background())
        child, cancel_child = with_cancel(parent)
        finished: Chan[None] = Chan()

        def watcher() -> None:
            parent.done().recv()
            cancel_child()
            finished.send(None)

        go(watcher)
        cancel_parent()
        recv_within(finished)
        return is_done(child)

    assert run(main, gomaxprocs=procs)


def test_simultaneous_cancels(procs: int) -> None:
    # Go's TestSimultaneousCancels: a tree whose every node is cancelled at
    # once from its own goroutine, the root included.
    def main() -> int:
        root, cancel_root = with_cancel(background())
        cancels: list[Callable[[], None]] = [cancel_root]
        contexts = [root]
        frontier = [root]
        for _ in range(3):
            next_frontier = []
            for parent in frontier:
                for _ in range(5):
                    ctx, cancel = with_cancel(parent)
                    contexts.append(ctx)
                    cancels.append(cancel)
                    next_frontier.append(ctx)
            frontier = next_frontier
        start: Chan[None] = Chan()
        wg = WaitGroup()
        for cancel in cancels:
            wg.go(lambda cancel=cancel: (start.recv(), cancel()))
        start.close()
        wg.wait()
        for ctx in contexts:
            assert is_done(ctx) and isinstance(ctx.err(), Canceled)
        return len(contexts)

    assert run(main, gomaxprocs=procs) == 1 + 5 + 25 + 125


# ---- trees of 10,000 -------------------------------------------------------------------

TREE_SIZE = 10_000


def build_tree(root: Context, shape: str) -> list[Context]:
    """TREE_SIZE descendants of ``root``: all children (wide), one chain (deep),
    or 100 children of 99 grandchildren each, some through values and timers (bushy)."""
    contexts: list[Context] = []
    if shape == "wide":
        contexts = [with_cancel(root)[0] for _ in range(TREE_SIZE)]
    elif shape == "deep":
        ctx = root
        for i in range(TREE_SIZE):
            ctx = with_cancel(ctx)[0] if i % 3 else with_value(ctx, "depth", i)
            contexts.append(ctx)
    else:
        for i in range(100):
            child = with_cancel(root)[0] if i % 2 else with_timeout(root, 3600)[0]
            contexts.append(child)
            via = with_value(child, "i", i)
            contexts += [with_cancel(via)[0] for _ in range(99)]
    assert len(contexts) == TREE_SIZE
    return contexts


@pytest.mark.parametrize("shape", ["wide", "deep", "bushy"])
def test_cancelling_a_parent_cancels_10000_descendants_promptly(procs: int, shape: str) -> None:
    def main() -> float:
        root, cancel = with_cancel(background())
        contexts = build_tree(root, shape)
        woken: Chan[None] = Chan(100)
        watched = contexts[::100]
        for ctx in watched:
            go(lambda ctx=ctx: (ctx.done().recv(), woken.send(None)))
        wait_until_blocked(len(watched), "chan receive")
        assert not any(is_done(ctx) for ctx in contexts)
        started = time.perf_counter()
        cancel()
        elapsed = time.perf_counter() - started
        for ctx in contexts:  # every descendant is cancelled when cancel returns
            assert isinstance(ctx.err(), Canceled)
        for _ in watched:
            recv_within(woken)
        return elapsed

    # About 10 ms here; the bound only catches something quadratic or stuck.
    assert run(main, gomaxprocs=procs) < 5.0


def observe_subtree(node: Context, leaves: list[Context], checked: Chan[int]) -> None:
    """Wait until ``node`` reports an error, then count the leaves that do too."""
    while node.err() is None:
        runtime.gosched()
    checked.send(sum(leaf.err() is not None for leaf in leaves))


def test_once_a_node_reports_err_every_descendant_is_cancelled(procs: int) -> None:
    # Like Go, the cancelling goroutine holds a node's lock until its subtree
    # is cancelled, so err() of a node is never ahead of its descendants'.
    def main() -> int:
        checks = 0
        for _ in range(20):
            root, cancel = with_cancel(background())
            middle, _ = with_cancel(root)
            leaves = [with_cancel(middle)[0] for _ in range(300)]
            checked: Chan[int] = Chan()

            go(observe_subtree, middle, leaves, checked)
            cancel()
            assert recv_within(checked) == len(leaves)
            checks += 1
        verify_none()  # the observers have finished
        return checks

    assert run(main, gomaxprocs=procs) == 20


# ---- children detach -------------------------------------------------------------------


def test_cancelled_children_detach_from_a_long_lived_parent(procs: int) -> None:
    # Go's TestCancelRemoves, at volume: whatever way a child ends, the parent
    # keeps no record of it.
    def main() -> list[int]:
        parent, cancel_parent = with_cancel(background())
        counts = []
        for _ in range(1000):
            _, cancel = with_cancel(parent)
            cancel()
        counts.append(children_of(parent))
        for _ in range(1000):
            _, cancel = with_timeout(parent, 3600)
            cancel()
        counts.append(children_of(parent))
        for _ in range(1000):  # registered with the parent through a value context
            _, cancel = with_cancel(with_value(parent, "k", "v"))
            cancel()
        counts.append(children_of(parent))
        for _ in range(1000):
            stop = after_func(parent, lambda: None)
            assert stop()
        counts.append(children_of(parent))
        expired = [with_timeout(parent, 0.001)[0] for _ in range(100)]
        for ctx in expired:
            recv_within(ctx.done(), ok=True)
            assert isinstance(ctx.err(), DeadlineExceeded)
        # Each expiry runs in a timer's goroutine which, as Go's cancel does,
        # closes done before it removes the child from the parent: wait for
        # those goroutines to finish.
        verify_none()
        counts.append(children_of(parent))
        cancel_parent()
        return counts

    assert run(main, gomaxprocs=procs) == [0, 0, 0, 0, 0]


def test_parent_registers_live_children_and_drops_them_when_cancelled() -> None:
    # Go's TestParentFinishesChild.
    parent, cancel = with_cancel(background())
    child, _ = with_cancel(parent)
    timer_child, _ = with_timeout(parent, 3600)
    through_value, _ = with_cancel(with_value(parent, "k", "v"))
    grandchild, _ = with_cancel(child)
    assert children_of(parent) == 3
    assert children_of(child) == 1
    cancel()
    assert children_of(parent) == 0 and children_of(child) == 0
    for ctx in (parent, child, timer_child, through_value, grandchild):
        assert isinstance(ctx.err(), Canceled)


def test_children_of_never_cancelled_contexts_register_nowhere() -> None:
    ctx, cancel = with_cancel(with_value(without_cancel(background()), "k", "v"))
    assert ctx.done() is not nilchan
    cancel()
    assert is_done(ctx)


# ---- deadlines -------------------------------------------------------------------------


def test_with_deadline_expires_with_deadline_exceeded(procs: int) -> None:
    # Go's TestDeadline.
    def main() -> None:
        when = gtime.now() + 0.05
        ctx, cancel = with_deadline(background(), when)
        assert ctx.deadline() == (when, True)
        assert not is_done(ctx)
        recv_within(ctx.done(), ok=True)
        assert gtime.now() >= when  # never early
        assert isinstance(ctx.err(), DeadlineExceeded)
        assert cause(ctx) is ctx.err()
        cancel()  # after expiry, changes nothing
        assert isinstance(ctx.err(), DeadlineExceeded)

    run(main, gomaxprocs=procs)


@pytest.mark.parametrize("timeout", [0.05, timedelta(milliseconds=50)])
def test_with_timeout_expires(procs: int, timeout: float | timedelta) -> None:
    # Go's TestTimeout: also through a foreign wrapper in between.
    def main() -> None:
        before = gtime.now()
        ctx, _ = with_timeout(WrappingContext(background()), timeout)
        when, ok = ctx.deadline()
        assert ok and when is not None and when >= before + 0.05
        recv_within(ctx.done(), ok=True)
        assert gtime.now() >= when
        assert isinstance(ctx.err(), DeadlineExceeded)

    run(main, gomaxprocs=procs)


def test_timeout_cancelled_first_reports_canceled() -> None:
    # Go's TestCanceledTimeout.
    ctx, cancel = with_timeout(background(), 3600)
    cancel()
    assert isinstance(ctx.err(), Canceled)


@pytest.mark.parametrize("delta", [0.0, -1.0])
def test_deadline_in_the_past_is_done_at_once(delta: float) -> None:
    ctx, _ = with_deadline(background(), gtime.now() + delta)
    assert is_done(ctx)
    assert isinstance(ctx.err(), DeadlineExceeded)
    ctx, _ = with_timeout(background(), delta)
    assert isinstance(ctx.err(), DeadlineExceeded)


def test_deadline_of_a_child_is_never_later_than_its_parents(procs: int) -> None:
    def main() -> None:
        # Timing is the point: 0.49 s between the two deadlines is a generous
        # margin for a loaded machine (0.04 s was not).
        parent, cancel = with_timeout(background(), 0.5)
        parent_when = parent.deadline()
        later, _ = with_timeout(parent, 3600)
        earlier, _ = with_timeout(parent, 0.01)
        assert later.deadline() == parent_when
        when, ok = earlier.deadline()
        assert ok and when is not None and parent_when[0] is not None
        assert when < parent_when[0]
        for derived in (with_cancel(parent)[0], with_value(parent, "k", "v")):
            assert derived.deadline() == parent_when
        recv_within(earlier.done(), ok=True)
        assert not is_done(parent)  # the child's own, earlier deadline passed first
        recv_within(later.done(), ok=True)  # at the parent's deadline
        assert gtime.now() >= parent_when[0]
        assert isinstance(later.err(), DeadlineExceeded)
        cancel()

    run(main, gomaxprocs=procs)


def test_deadlines_need_no_goroutine_while_pending() -> None:
    def main() -> int:
        before = runtime.num_goroutine()
        pending = [with_timeout(background(), 3600) for _ in range(1000)]
        during = runtime.num_goroutine()
        for _, cancel in pending:
            cancel()
        return during - before

    assert run(main) == 0


@pytest.mark.allow_goroutine_leaks
def test_cancel_stops_the_timer() -> None:
    # A pending timer would keep the deadlock detector quiet until it fired:
    # once cancelled (directly, or through a parent), nothing is left pending.
    def main() -> None:
        _, cancel = with_timeout(background(), 2 * PATIENCE)
        parent, cancel_parent = with_cancel(background())
        with_timeout(parent, 2 * PATIENCE)
        cancel()
        cancel_parent()
        Chan[None]().recv()  # blocks forever

    started = time.monotonic()
    with pytest.raises(DeadlockError):
        run(main)
    assert time.monotonic() - started < PATIENCE


def test_bad_durations_raise_type_error() -> None:
    with pytest.raises(TypeError):
        with_timeout(background(), "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        with_deadline(background(), timedelta(seconds=1))  # type: ignore[arg-type]


# ---- causes ----------------------------------------------------------------------------


def test_cancel_cause_records_the_cause_but_err_stays_canceled() -> None:
    ctx, cancel = with_cancel_cause(background())
    assert cause(ctx) is None
    boom = ValueError("boom")
    cancel(boom)
    assert isinstance(ctx.err(), Canceled)
    assert cause(ctx) is boom


def test_cancel_cause_without_a_cause_makes_the_error_the_cause() -> None:
    ctx, cancel = with_cancel_cause(background())
    cancel()
    assert cause(ctx) is ctx.err()
    ctx, cancel = with_cancel_cause(background())
    cancel(None)
    assert cause(ctx) is ctx.err()


def test_first_cause_wins() -> None:
    ctx, cancel = with_cancel_cause(background())
    first, second = ValueError("first"), ValueError("second")
    cancel(first)
    cancel(second)
    assert cause(ctx) is first


def test_causes_flow_down_the_tree() -> None:
    # Go's TestCause table, its main rows.
    parent, cancel_parent = with_cancel_cause(background())
    child, cancel_child = with_cancel_cause(parent)
    own_cause, _ = with_cancel_cause(parent)
    plain_child, _ = with_cancel(parent)
    via_value = with_value(plain_child, "k", "v")
    timed, _ = with_timeout(parent, 3600)
    early = KeyError("early")
    cancel_child_first, cancel_it = with_cancel_cause(parent)
    cancel_it(early)
    boom = ValueError("boom")
    cancel_parent(boom)
    cancel_child(ValueError("too late"))
    for ctx in (parent, child, own_cause, plain_child, via_value, timed):
        assert cause(ctx) is boom
        assert isinstance(ctx.err(), Canceled)
    assert cause(cancel_child_first) is early


def test_cause_of_an_expired_timeout_is_deadline_exceeded() -> None:
    ctx, cancel = with_timeout(background(), -1)
    child, _ = with_cancel(ctx)
    assert isinstance(cause(ctx), DeadlineExceeded)
    assert cause(child) is ctx.err()
    cancel()


def test_cause_of_a_foreign_context_is_its_err() -> None:
    foreign = OwnDoneContext()
    assert cause(foreign) is None
    foreign.cancel()
    assert cause(foreign) is foreign.err()


def cancel_when_started(start: Chan[None], cancel: Callable[..., None], reason: object) -> None:
    start.recv()
    cancel(reason)


def read_cause_once_done(ctx: Context, seen: Chan[BaseException | None]) -> None:
    while ctx.err() is None:
        runtime.gosched()
    seen.send(cause(ctx))


def test_cause_race(procs: int) -> None:
    # Go's TestCauseRace: while the context is cancelled, a reader that sees
    # err() set always sees a cause, and the cause is the first one given.
    def main() -> bool:
        for _ in range(20):
            ctx, cancel = with_cancel_cause(background())
            causes = [ValueError(i) for i in range(8)]
            wg = WaitGroup()
            start: Chan[None] = Chan()
            for reason in causes:
                wg.go(cancel_when_started, start, cancel, reason)
            seen: Chan[BaseException | None] = Chan(1)
            wg.go(read_cause_once_done, ctx, seen)
            start.close()
            wg.wait()
            assert seen.recv() in causes
            assert cause(ctx) in causes
        return True

    assert run(main, gomaxprocs=procs)


def test_cause_polled_while_cancelled_is_the_cause_never_err(procs: int) -> None:
    # Go's TestCauseRace itself: poll cause(ctx) while another goroutine
    # cancels with a cause; the first non-None answer must be that cause.
    # cause() read the cause, found none yet, then err(): a cancel in between
    # made it answer Canceled.
    def once() -> BaseException | None:
        failure = ValueError("TestCauseRace")
        ctx, cancel = with_cancel_cause(background())
        wg = WaitGroup()
        wg.go(cancel, failure)
        while (found := cause(ctx)) is None:
            if procs == 1:
                runtime.gosched()  # with two workers, spin: the tighter the race
        wg.wait()
        return None if found is failure else found

    def main() -> list[BaseException]:
        return [wrong for _ in range(200) if (wrong := once()) is not None]

    assert run(main, gomaxprocs=procs) == []


# ---- values ----------------------------------------------------------------------------


def test_values() -> None:
    # Go's TestValues.
    class Key:
        def __init__(self, name: str) -> None:
            self.name = name

    k1, k2, k3 = Key("k1"), Key("k2"), Key("k3")
    c0 = background()
    c1 = with_value(c0, k1, "c1k1")
    c2 = with_value(c1, k2, "c2k2")
    c3 = with_value(c2, k3, "c3k3")
    c4 = with_value(c3, k1, None)  # shadows c1's value with None
    o0 = WrappingContext(c0)
    o1 = with_value(o0, k1, "c1k1")
    o2 = WrappingContext(with_value(o1, k2, "o2k2"))
    o3 = with_cancel(with_value(o2, k3, "o3k3"))[0]

    def values(ctx: Context) -> tuple[object, object, object]:
        return ctx.value(k1), ctx.value(k2), ctx.value(k3)

    assert values(c0) == (None, None, None)
    assert values(c1) == ("c1k1", None, None)
    assert values(c2) == ("c1k1", "c2k2", None)
    assert values(c3) == ("c1k1", "c2k2", "c3k3")
    assert values(c4) == (None, "c2k2", "c3k3")
    assert values(o0) == (None, None, None)
    assert values(o1) == ("c1k1", None, None)
    assert values(o2) == ("c1k1", "o2k2", None)
    assert values(o3) == ("c1k1", "o2k2", "o3k3")


def test_value_keys_compare_with_equality() -> None:
    ctx = with_value(with_value(background(), 1, "one"), ("a", 2), "tuple")
    assert ctx.value(1) == "one"
    assert ctx.value(1.0) == "one"  # 1 == 1.0, as Go compares keys with ==
    assert ctx.value(("a", 2)) == "tuple"
    assert ctx.value(("a", 3)) is None
    assert with_value(background(), [1], "list").value([1]) == "list"  # no hashing needed


def test_values_pass_through_cancel_timer_and_without_cancel_contexts() -> None:
    base = with_value(background(), "user", "gopher")
    cancelled, cancel = with_cancel(base)
    timed, cancel_timed = with_timeout(cancelled, 3600)
    detached = without_cancel(timed)
    for ctx in (cancelled, timed, detached):
        assert ctx.value("user") == "gopher"
    cancel()
    assert timed.value("user") == "gopher"  # values outlive cancellation
    cancel_timed()


def test_none_key_raises_type_error() -> None:
    with pytest.raises(TypeError):
        with_value(background(), None, "v")


def test_value_lookup_through_a_deep_chain_does_not_recurse() -> None:
    ctx = with_value(background(), "root", "found")
    for i in range(20_000):
        ctx = with_value(ctx, i, i)
    assert ctx.value("root") == "found"
    assert ctx.value(0) == 0
    assert ctx.deadline() == (None, False) and ctx.err() is None


# ---- without_cancel --------------------------------------------------------------------


def test_without_cancel_keeps_values_and_drops_cancellation(procs: int) -> None:
    def main() -> None:
        parent, cancel = with_cancel_cause(with_value(background(), "k", "v"))
        timed, cancel_timed = with_timeout(parent, 0.01)
        detached = without_cancel(timed)
        cancel(ValueError("boom"))
        assert is_done(timed)
        assert detached.done() is nilchan
        assert detached.err() is None
        assert cause(detached) is None
        assert detached.deadline() == (None, False)
        assert detached.value("k") == "v"
        # Its children can be cancelled on their own, and only so.
        child, cancel_child = with_cancel(detached)
        assert not is_done(child)
        cancel_child()
        assert is_done(child)
        cancel_timed()

    run(main, gomaxprocs=procs)


# ---- foreign contexts ------------------------------------------------------------------


def test_custom_context_goroutines(procs: int) -> None:
    # Go's TestCustomContextGoroutines: a child of a context that merely wraps
    # one of ours registers with it directly; only a context with a done
    # channel of its own costs a watching goroutine.
    def main() -> None:
        base = runtime.num_goroutine()
        inner, cancel_inner = with_cancel(background())
        wrapped_child, _ = with_cancel(WrappingContext(inner))
        assert runtime.num_goroutine() == base
        assert children_of(inner) == 1
        cancel_inner()
        assert is_done(wrapped_child)

        foreign = OwnDoneContext()
        child, cancel_child = with_cancel(foreign)
        grandchild, _ = with_cancel(child)
        assert runtime.num_goroutine() == base + 1
        foreign.cancel()
        recv_within(grandchild.done(), ok=True)
        assert child.err() is foreign.err()
        wait_for_goroutines(base)

        another = OwnDoneContext()
        child, cancel_child = with_cancel(another)
        cancel_child()  # the watcher ends when the child ends first
        wait_for_goroutines(base)

        gone = OwnDoneContext()
        gone.cancel()
        child, _ = with_cancel(gone)  # a foreign context already done
        assert is_done(child)
        assert runtime.num_goroutine() == base

    run(main, gomaxprocs=procs)


# ---- after_func ------------------------------------------------------------------------


def test_after_func_runs_after_cancel(procs: int) -> None:
    # Go's TestAfterFuncCalledAfterCancel.
    def main() -> None:
        ctx, cancel = with_cancel(background())
        ran: Chan[bool] = Chan(1)
        after_func(ctx, lambda: ran.send(is_done(ctx)))
        assert len(ran) == 0
        cancel()
        assert recv_within(ran) is True  # f sees ctx done

    run(main, gomaxprocs=procs)


def test_after_func_runs_after_timeout(procs: int) -> None:
    # Go's TestAfterFuncCalledAfterTimeout.
    def main() -> None:
        ctx, _ = with_timeout(background(), 0.01)
        ran: Chan[None] = Chan(1)
        after_func(ctx, lambda: ran.send(None))
        recv_within(ran)
        assert isinstance(ctx.err(), DeadlineExceeded)

    run(main, gomaxprocs=procs)


def test_after_func_on_a_done_context_runs_at_once_in_its_own_goroutine(procs: int) -> None:
    # Go's TestAfterFuncCalledImmediately: f starts at once, yet asynchronously:
    # it blocks on a channel the caller only serves after after_func returned.
    def main() -> str:
        ctx, cancel = with_cancel(background())
        cancel()
        handshake: Chan[str] = Chan()
        stop = after_func(ctx, lambda: handshake.send("ran"))
        assert stop() is False  # already started
        ran = recv_within(handshake)
        verify_none()  # f's goroutine has finished
        return ran  # type: ignore[no-any-return]

    assert run(main, gomaxprocs=procs) == "ran"


@pytest.mark.allow_goroutine_leaks
@pytest.mark.parametrize("procs", PROCS)
def test_after_func_not_called_after_stop(procs: int) -> None:
    # Go's TestAfterFuncNotCalledAfterStop: once stop returned True, f never
    # runs; "never" is the deadlock detector's verdict.
    ran: list[str] = []

    def main() -> None:
        ctx, cancel = with_cancel(background())
        got: Chan[None] = Chan()
        stop = after_func(ctx, lambda: (ran.append("f"), got.send(None)))
        assert stop() is True
        assert stop() is False  # Go's TestAfterFuncStopCallingMultipleTimes
        cancel()
        got.recv()

    with pytest.raises(DeadlockError):
        run(main, gomaxprocs=procs)
    assert ran == []


def test_after_func_stop_races_with_cancel_exactly_one_wins(procs: int) -> None:
    # Go's TestAfterFuncConcurrentStop, with a cancel in the race too: f runs
    # if and only if stop returned False.
    def main() -> tuple[int, int]:
        trials = 200
        ran: Chan[int] = Chan(trials)
        stopped_results: Chan[bool] = Chan(trials)
        wg = WaitGroup()
        for trial in range(trials):
            ctx, cancel = with_cancel(background())
            stop = after_func(ctx, lambda trial=trial: ran.send(trial))
            wg.go(cancel)
            wg.go(lambda stop=stop: stopped_results.send(stop()))
        wg.wait()
        stops = [stopped_results.recv() for _ in range(trials)]
        wait_for_goroutines(1)  # every f that was started has finished
        return len(ran), stops.count(False)

    count, not_stopped = run(main, gomaxprocs=procs)
    assert count == not_stopped


def test_after_func_concurrent_stops_exactly_one_returns_true(procs: int) -> None:
    def main() -> list[bool]:
        ctx, cancel = with_cancel(background())
        stop = after_func(ctx, lambda: None)
        results: Chan[bool] = Chan(10)
        start: Chan[None] = Chan()
        for _ in range(10):
            go(lambda: (start.recv(), results.send(stop())))
        start.close()
        got = [recv_within(results) for _ in range(10)]
        cancel()
        return got

    assert sorted(run(main, gomaxprocs=procs)) == [False] * 9 + [True]


def test_after_func_stop_after_f_ran_returns_false(procs: int) -> None:
    def main() -> bool:
        ctx, cancel = with_cancel(background())
        ran: Chan[None] = Chan(1)
        stop = after_func(ctx, lambda: ran.send(None))
        cancel()
        recv_within(ran)
        return stop()

    assert run(main, gomaxprocs=procs) is False


def test_after_func_on_background_never_runs_and_stop_returns_true() -> None:
    assert after_func(background(), lambda: None)() is True


@pytest.mark.allow_goroutine_leaks  # the run ends by an exception: main is abandoned
def test_after_func_exception_ends_the_run_as_any_goroutines_does() -> None:
    class Boom(Exception):
        pass

    def explode() -> None:
        raise Boom

    def main() -> None:
        ctx, cancel = with_cancel(background())
        after_func(ctx, explode)
        cancel()
        select()  # the run ends with Boom

    with pytest.raises(Boom):
        run(main)


def test_after_func_requires_a_callable() -> None:
    with pytest.raises(TypeError):
        after_func(background(), "f")  # type: ignore[arg-type]


# ---- layers (Go's TestLayersCancel / TestLayersTimeout) --------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_layers_of_values_cancels_and_timeouts(procs: int, seed: int) -> None:
    # Random stacks of value, cancel and timeout layers: values stay visible
    # at every layer, nothing is done before its time, cancelling a layer ends
    # it and everything below, and timeouts expire with DeadlineExceeded.
    def main() -> None:
        rng = random.Random(seed)
        ctx = background()
        layers: list[tuple[str, Context, Callable[[], None] | None]] = []
        values: dict[int, int] = {}
        for i in range(30):
            kind = rng.choice(["value", "cancel", "timeout"])
            if kind == "value":
                ctx = with_value(ctx, i, i * i)
                values[i] = i * i
                layers.append((kind, ctx, None))
            elif kind == "cancel":
                ctx, cancel = with_cancel(ctx)
                layers.append((kind, ctx, cancel))
            else:
                ctx, cancel = with_timeout(ctx, rng.choice([0.02, 3600.0]))
                layers.append((kind, ctx, cancel))
        for key, expected in values.items():
            assert ctx.value(key) == expected
        cancellable = [layer for layer in layers if layer[2] is not None]
        if not cancellable:
            return
        _, target, cancel = rng.choice(cancellable)
        assert cancel is not None
        cancel()
        below = layers[[layer[1] for layer in layers].index(target) :]
        for _, layer_ctx, _ in below:
            recv_within(layer_ctx.done(), ok=True)
            assert isinstance(layer_ctx.err(), (Canceled, DeadlineExceeded))
        under_a_cancel = False
        for _, layer_ctx, cancel_layer in layers:
            if cancel_layer is not None:
                cancel_layer()
                under_a_cancel = True
            assert is_done(layer_ctx) == under_a_cancel

    run(main, gomaxprocs=procs)


# ---- plain threads ---------------------------------------------------------------------


def test_plain_thread_waits_on_done_cancelled_by_a_goroutine(
    procs: int, start_thread: Callable[..., threading.Thread]
) -> None:
    def thread(ctx: Context, started: Chan[None], out: Chan[object]) -> None:
        started.send(None)
        ctx.done().recv()
        out.send(cause(ctx))

    def main() -> object:
        ctx, cancel = with_cancel_cause(background())
        started: Chan[None] = Chan()
        out: Chan[object] = Chan(1)
        start_thread(thread, ctx, started, out)
        recv_within(started)
        cancel("stop" and ValueError("stop"))
        return recv_within(out)

    result = run(main, gomaxprocs=procs)
    assert isinstance(result, ValueError)


def test_goroutines_woken_by_a_cancel_from_a_plain_thread(
    procs: int, start_thread: Callable[..., threading.Thread]
) -> None:
    def main() -> int:
        ctx, cancel = with_cancel(background())
        children = [with_cancel(ctx)[0] for _ in range(50)]
        woken: Chan[None] = Chan(50)
        for child in children:
            go(lambda child=child: (child.done().recv(), woken.send(None)))
        wait_until_blocked(50, "chan receive")
        start_thread(cancel)
        for _ in children:
            recv_within(woken)
        returned = sum(isinstance(child.err(), Canceled) for child in children)
        verify_none()  # the goroutines it started have finished
        return returned

    assert run(main, gomaxprocs=procs) == 50


def test_contexts_between_plain_threads_only() -> None:
    ctx, cancel = with_timeout(background(), 3600)
    child, _ = with_cancel(ctx)
    results: list[object] = []

    def waiter() -> None:
        child.done().recv()
        results.append(child.err())

    threads = [threading.Thread(target=waiter) for _ in range(4)]
    for thread in threads:
        thread.start()
    cancel()
    for thread in threads:
        thread.join(PATIENCE)
    assert len(results) == 4 and all(isinstance(err, Canceled) for err in results)


def test_timeout_from_a_plain_thread_expires() -> None:
    ctx, _ = with_timeout(background(), 0.02)
    fired: list[bool] = []
    stop = after_func(ctx, lambda: fired.append(True))
    ctx.done().recv()
    assert isinstance(ctx.err(), DeadlineExceeded)
    deadline = time.monotonic() + PATIENCE
    while not fired and time.monotonic() < deadline:
        time.sleep(0.001)
    assert fired == [True] and stop() is False


def test_module_is_reexported() -> None:
    import goroutines

    assert goroutines.context is context
    assert "context" in goroutines.__all__
