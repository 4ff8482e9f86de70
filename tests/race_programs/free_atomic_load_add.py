# Go: TestNoRaceAtomicLoadAddInt32 (atomic_test.go)
# location: global
# expect: no race
"""A load that observes an add is ordered after it."""

from goroutines import atomic, go, runtime

x = 0
s = atomic.Int()


def writer() -> None:
    global x
    x = 2
    s.add(1)


def main() -> None:
    global x
    go(writer)
    while s.load() != 1:
        runtime.gosched()
    x = 1


main()
