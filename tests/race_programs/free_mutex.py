# Go: TestNoRaceMutex (mutex_test.go)
# location: global
# expect: no race
"""Writes under the same mutex (one held through a `with`, Go's defer)."""

from goroutines import Chan, go
from goroutines.sync import Mutex

x = 0
mu = Mutex()
ch: Chan[bool] = Chan(2)


def first() -> None:
    global x
    with mu:
        x = 1
        ch.send(True)


def second() -> None:
    global x
    mu.lock()
    x = 2
    mu.unlock()
    ch.send(True)


def main() -> None:
    go(first)
    go(second)
    ch.recv()
    ch.recv()


main()
