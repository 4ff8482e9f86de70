# Go: TestNoRaceWaitGroupReuse2 (waitgroup_test.go)
# location: item
# expect: no race
"""A reused WaitGroup with two waiters per round, one in another goroutine."""

from goroutines import Chan, go
from goroutines.sync import WaitGroup

P = 3
data = [0] * P
wg = WaitGroup()


def worker(p: int) -> None:
    data[p] += 1
    wg.done()


def waiter(done: Chan[bool]) -> None:
    wg.wait()
    for p in range(P):
        data[p] += 1
    done.send(True)


def main() -> None:
    for _ in range(3):
        wg.add(P)
        for p in range(P):
            go(worker, p)
        done: Chan[bool] = Chan()
        go(waiter, done)
        wg.wait()
        done.recv()
        for p in range(P):
            data[p] += 1


main()
