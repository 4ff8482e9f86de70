# Go: TestRaceWaitGroupAsMutex (waitgroup_test.go)
# location: item
# expect: 1 race
# race: item 0 of list: write line 23 / write line 23
"""add(+1) ... add(-1) is not a mutex. Go sleeps 100 ms so that both
goroutines have waited before either adds; here each tells the other it has
waited, through its own buffered channel, which orders only what came before
that (Go's two closures are one function, so the race is on one line)."""

from goroutines import Chan, go
from goroutines.sync import WaitGroup

data = [0]
wg = WaitGroup()
c: Chan[bool] = Chan(2)


def worker(value: int, mine: Chan[bool], other: Chan[bool]) -> None:
    wg.wait()
    mine.send(True)
    other.recv()
    wg.add(+1)
    data[0] = value
    wg.add(-1)
    c.send(True)


def main() -> None:
    waited1: Chan[bool] = Chan(1)
    waited2: Chan[bool] = Chan(1)
    go(worker, 1, waited1, waited2)
    go(worker, 2, waited2, waited1)
    c.recv()
    c.recv()


main()
