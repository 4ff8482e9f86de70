# Go: TestRaceMutex (mutex_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of Box object: write line 22 / write line 28
"""Writes before taking the mutex are not protected by it."""

from goroutines import Chan, go
from goroutines.sync import Mutex


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
mu = Mutex()
ch: Chan[bool] = Chan(2)


def first() -> None:
    box.x = 1
    with mu:
        ch.send(True)


def second() -> None:
    box.x = 2
    mu.lock()
    mu.unlock()
    ch.send(True)


def main() -> None:
    go(first)
    go(second)
    ch.recv()
    ch.recv()


main()
