# Go: TestNoRaceAtomicStoreCASUint64 (atomic_test.go), with an atomic.Bool
# location: attribute
# expect: no race
"""A compare-and-swap that succeeds on a stored Bool is ordered after the
store."""

from goroutines import atomic, go, runtime


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
s = atomic.Bool()


def writer() -> None:
    box.x = 2
    s.store(True)


def main() -> None:
    go(writer)
    while not s.compare_and_swap(True, False):
        runtime.gosched()
    box.x = 1


main()
