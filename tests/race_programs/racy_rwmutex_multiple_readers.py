# Go: TestRaceRWMutexMultipleReaders (rwmutex_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'y' of State object: write line 33 / write line 33
"""Readers holding the read lock together are not ordered with each other:
of three readers, at least two are on the same side of the writer, so their
writes to y race. Go's three closures are one function here (the same line),
so the race is the same whichever readers meet."""

from goroutines import Chan, go
from goroutines.sync import RWMutex


class State:
    def __init__(self) -> None:
        self.x = 0
        self.y = 1


state = State()
mu = RWMutex()
ch: Chan[bool] = Chan(4)


def writer() -> None:
    with mu:
        state.x = 2
        ch.send(True)


def reader(k: int) -> None:
    mu.rlock()
    state.y = state.x + k
    mu.runlock()
    ch.send(True)


def main() -> None:
    go(writer)
    go(reader, 1)
    go(reader, 2)
    go(reader, 3)
    for _ in range(4):
        ch.recv()
    _ = state.y


main()
