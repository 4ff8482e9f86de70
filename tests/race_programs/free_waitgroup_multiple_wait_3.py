# Go: TestNoRaceWaitGroupMultipleWait3 (waitgroup_test.go)
# location: item
# expect: no race
"""Every done happens before each of several waits."""

from goroutines import Chan, go
from goroutines.sync import WaitGroup

P = 3
data = [0] * P
done: Chan[bool] = Chan(P)
wg = WaitGroup()


def worker(p: int) -> None:
    data[p] = 42
    wg.done()


def waiter() -> None:
    wg.wait()
    for p in range(P):
        _ = data[p]
    done.send(True)


def main() -> None:
    wg.add(P)
    for p in range(P):
        go(worker, p)
    for _ in range(P):
        go(waiter)
    for _ in range(P):
        done.recv()


main()
