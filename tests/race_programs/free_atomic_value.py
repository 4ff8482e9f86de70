# Go: TestNoRaceAtomicLoadStorePointer (atomic_test.go)
# location: global
# expect: no race
"""atomic.Value: a load that observes a stored object is ordered after the
store (Go's StorePointer/LoadPointer)."""

from goroutines import atomic, go, runtime

x = 0
s: atomic.Value[object] = atomic.Value()
p = object()


def writer() -> None:
    global x
    x = 2
    s.store(p)


def main() -> None:
    global x
    go(writer)
    while s.load() is not p:
        runtime.gosched()
    x = 1


main()
