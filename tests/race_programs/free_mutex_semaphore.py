# Go: TestNoRaceMutexSemaphore (mutex_test.go)
# location: attribute
# expect: no race
"""A mutex locked by main and unlocked by another goroutine, as a semaphore:
the unlock happens before the next lock."""

from goroutines import Chan, go
from goroutines.sync import Mutex


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
mu = Mutex()
ch: Chan[bool] = Chan(2)


def releaser() -> None:
    box.x = 1
    mu.unlock()
    ch.send(True)


def locker() -> None:
    mu.lock()
    box.x = 2
    mu.unlock()
    ch.send(True)


def main() -> None:
    mu.lock()
    go(releaser)
    go(locker)
    ch.recv()
    ch.recv()


main()
