"""``goroutines.atomic``: API.md's table, and atomicity under goroutines on
gomaxprocs 1 and 2 and plain threads (the meaning of Go's
``sync/atomic/atomic_test.go`` hammer tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from conftest import recv_within

from goroutines import Chan, atomic, run, runtime
from goroutines.sync import WaitGroup

pytestmark = pytest.mark.timeout(60)


# ---- single-goroutine semantics ----------------------------------------------------------


def test_int_operations() -> None:
    value = atomic.Int()
    assert value.load() == 0
    value.store(5)
    assert value.load() == 5
    assert value.add(3) == 8
    assert value.add(-10) == -2
    assert value.swap(7) == -2
    assert value.load() == 7
    assert not value.compare_and_swap(6, 1)
    assert value.load() == 7
    assert value.compare_and_swap(7, 1)
    assert value.load() == 1
    assert atomic.Int(42).load() == 42


def test_int_does_not_wrap_around() -> None:
    value = atomic.Int(2**63 - 1)
    assert value.add(1) == 2**63
    assert value.add(2**100) == 2**63 + 2**100


def test_int_compares_by_value() -> None:
    big = 10**30
    value = atomic.Int(big)
    assert value.compare_and_swap(int(str(big)), 1)  # equal, not the same object


def test_bool_operations() -> None:
    flag = atomic.Bool()
    assert flag.load() is False
    flag.store(True)
    assert flag.load() is True
    assert flag.swap(False) is True
    assert not flag.compare_and_swap(True, False)
    assert flag.compare_and_swap(False, True)
    assert flag.load() is True
    assert atomic.Bool(True).load() is True


def test_value_operations_compare_by_identity() -> None:
    value: atomic.Value[object] = atomic.Value()
    assert value.load() is None
    first: list[int] = []
    value.store(first)
    assert value.load() is first
    assert not value.compare_and_swap([], [1]), "compared by ==, not by identity"
    second = [1]
    assert value.compare_and_swap(first, second)
    assert value.load() is second
    assert value.swap(None) is second
    assert value.load() is None
    assert value.compare_and_swap(None, "x")
    assert atomic.Value(3).load() == 3


# ---- atomicity under concurrency -----------------------------------------------------------


def run_everywhere(body: Callable[[int], None], procs: int, goroutines: int, threads: int) -> None:
    """Run ``body(i)`` in ``goroutines`` goroutines (under gomaxprocs ``procs``)
    and in ``threads`` plain threads at the same time; return when all are done."""

    def main() -> None:
        wg = WaitGroup()
        wg.add(threads)
        ready: Chan[None] = Chan()

        def in_thread(i: int) -> None:
            ready.send(None)  # known to the deadlock detector before main waits
            try:
                body(i)
            finally:
                wg.done()

        started = [threading.Thread(target=in_thread, args=(i,)) for i in range(threads)]
        for thread in started:
            thread.start()
            recv_within(ready)
        for i in range(goroutines):
            wg.go(body, threads + i)
        wg.wait()
        for thread in started:
            thread.join()

    run(main, gomaxprocs=procs)


def test_int_add_loses_no_update(procs: int) -> None:
    counter = atomic.Int()

    def body(i: int) -> None:
        for j in range(2000):
            counter.add(1)
            if j % 100 == 0:
                runtime.gosched()

    run_everywhere(body, procs, goroutines=6, threads=3)
    assert counter.load() == 9 * 2000


def test_int_compare_and_swap_loop_loses_no_update(procs: int) -> None:
    counter = atomic.Int()

    def body(i: int) -> None:
        for j in range(1000):
            while True:
                old = counter.load()
                if counter.compare_and_swap(old, old + 1):
                    break
            if j % 50 == 0:
                runtime.gosched()

    run_everywhere(body, procs, goroutines=4, threads=3)
    assert counter.load() == 7 * 1000


@pytest.mark.parametrize("kind", ["int", "value"])
def test_swap_hands_each_value_to_exactly_one_caller(procs: int, kind: str) -> None:
    # Go's hammerSwap: every stored value comes back exactly once, from a swap
    # or as the final value.
    cell: atomic.Int | atomic.Value[object] = atomic.Int(-1) if kind == "int" else atomic.Value(-1)
    seen: list[object] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        mine = []
        for j in range(500):
            mine.append(cell.swap(i * 1000 + j))  # type: ignore[arg-type]
            if j % 50 == 0:
                runtime.gosched()
        with lock:
            seen.extend(mine)

    run_everywhere(body, procs, goroutines=4, threads=2)
    seen.append(cell.load())
    expected = [-1] + [i * 1000 + j for i in range(6) for j in range(500)]
    assert sorted(seen) == sorted(expected)  # type: ignore[type-var]


def test_bool_compare_and_swap_elects_one_winner_per_round(procs: int) -> None:
    flag = atomic.Bool()
    wins = atomic.Int()

    def body(i: int) -> None:
        for _ in range(300):
            if flag.compare_and_swap(False, True):
                wins.add(1)
                assert flag.swap(False) is True
            runtime.gosched()

    run_everywhere(body, procs, goroutines=4, threads=2)
    assert wins.load() >= 1
    assert flag.load() is False


def test_a_failed_operation_leaves_the_value_usable() -> None:
    value = atomic.Int(1)
    with pytest.raises(TypeError):
        value.add("x")  # type: ignore[arg-type]
    assert value.add(1) == 2  # the lock was released

    class Weird:
        def __eq__(self, other: object) -> bool:
            raise ArithmeticError("no")

        __hash__ = object.__hash__

    with pytest.raises(ArithmeticError):
        value.compare_and_swap(Weird(), 3)  # type: ignore[arg-type]
    assert value.compare_and_swap(2, 3)
