# Go: TestNoRaceAtomicCASCASInt32 (atomic_test.go)
# location: item
# expect: no race
"""A compare-and-swap that observes another is ordered after it."""

from goroutines import atomic, go, runtime

data = [0]
s = atomic.Int()


def writer() -> None:
    data[0] = 2
    if not s.compare_and_swap(0, 1):
        raise AssertionError("compare_and_swap(0, 1) failed")


def main() -> None:
    go(writer)
    while not s.compare_and_swap(1, 0):
        runtime.gosched()
    data[0] = 1


main()
