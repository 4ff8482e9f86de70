# Go: TestNoRaceAsFunc4 (mop_test.go)
# location: attribute
# expect: no race
"""An assignment's target is written after the call on its right returns, so
inside the mutex the callee took."""

from goroutines import Chan, go
from goroutines.sync import Mutex


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
mu = Mutex()
c: Chan[bool] = Chan(1)


def lock_and_42() -> int:
    mu.lock()
    return 42


def writer() -> None:
    box.x = lock_and_42()
    mu.unlock()
    c.send(True)


def main() -> None:
    go(writer)
    mu.lock()
    box.x = 42
    mu.unlock()
    c.recv()


main()
