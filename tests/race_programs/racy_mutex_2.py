# Go: TestRaceMutex2 (mutex_test.go)
# location: item
# expect: 1 race
# race: item 'x' of dict: write line 18 / write line 24
"""Two different mutexes do not order each other's critical sections."""

from goroutines import Chan, go
from goroutines.sync import Mutex

state = {"x": 0}
mu1 = Mutex()
mu2 = Mutex()
ch: Chan[bool] = Chan(2)


def first() -> None:
    with mu1:
        state["x"] = 1
        ch.send(True)


def second() -> None:
    mu2.lock()
    state["x"] = 2
    mu2.unlock()
    ch.send(True)


def main() -> None:
    go(first)
    go(second)
    ch.recv()
    ch.recv()


main()
