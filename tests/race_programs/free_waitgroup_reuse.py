# Go: TestNoRaceWaitGroupReuse (waitgroup_test.go)
# location: item
# expect: no race
"""A WaitGroup reused for three rounds; each round's writes are ordered by
its wait."""

from goroutines import go
from goroutines.sync import WaitGroup

P = 3
data = [0] * P
wg = WaitGroup()


def worker(p: int) -> None:
    data[p] += 1
    wg.done()


def main() -> None:
    for _ in range(3):
        wg.add(P)
        for p in range(P):
            go(worker, p)
        wg.wait()
        for p in range(P):
            data[p] += 1


main()
