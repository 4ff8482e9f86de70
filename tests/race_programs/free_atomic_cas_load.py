# Go: TestNoRaceAtomicCASLoadInt32 (atomic_test.go)
# location: global
# expect: no race
"""A load that observes a compare-and-swap is ordered after it."""

from goroutines import atomic, go, runtime

x = 0
s = atomic.Int()


def writer() -> None:
    global x
    x = 2
    if not s.compare_and_swap(0, 1):
        raise AssertionError("compare_and_swap(0, 1) failed")


def main() -> None:
    global x
    go(writer)
    while s.load() != 1:
        runtime.gosched()
    x = 1


main()
