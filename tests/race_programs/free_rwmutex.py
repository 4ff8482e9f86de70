# Go: TestNoRaceRWMutex (rwmutex_test.go)
# location: attribute
# expect: no race
"""A write under the write lock and a read under the read lock."""

from goroutines import Chan, go
from goroutines.sync import RWMutex


class State:
    def __init__(self) -> None:
        self.x = 0
        self.y = 1


state = State()
mu = RWMutex()
ch: Chan[bool] = Chan(2)


def writer() -> None:
    with mu:
        state.x = 2
        ch.send(True)


def reader() -> None:
    mu.rlock()
    state.y = state.x
    mu.runlock()
    ch.send(True)


def main() -> None:
    go(writer)
    go(reader)
    ch.recv()
    ch.recv()


main()
