# Go: TestNoRaceAtomicStoreCASInt32 (atomic_test.go)
# location: attribute
# expect: no race
"""A compare-and-swap that succeeds on a stored value is ordered after the
store."""

from goroutines import atomic, go, runtime


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
s = atomic.Int()


def writer() -> None:
    box.x = 2
    s.store(1)


def main() -> None:
    go(writer)
    while not s.compare_and_swap(1, 0):
        runtime.gosched()
    box.x = 1


main()
