# Go: TestRaceAsFunc3 (mop_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of Box object: read line 28 / write line 36
"""An argument is read before the call, so before the mutex the callee takes.
Go lets main take the lock after `go`; here main takes it before, so that it
is main that holds the lock while the goroutine reads, on every schedule."""

from goroutines import Chan, go
from goroutines.sync import Mutex


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
mu = Mutex()
c: Chan[bool] = Chan(1)


def lock_with(x: int) -> None:
    mu.lock()


def reader() -> None:
    lock_with(box.x)
    mu.unlock()
    c.send(True)


def main() -> None:
    mu.lock()
    go(reader)
    box.x = 42
    mu.unlock()
    c.recv()


main()
