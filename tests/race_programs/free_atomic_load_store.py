# Go: TestNoRaceAtomicLoadStoreInt32 (atomic_test.go)
# location: item
# expect: no race
"""A load that observes a store is ordered after it."""

from goroutines import atomic, go, runtime

data = [0]
s = atomic.Int()


def writer() -> None:
    data[0] = 2
    s.store(1)


def main() -> None:
    go(writer)
    while s.load() != 1:
        runtime.gosched()
    data[0] = 1


main()
