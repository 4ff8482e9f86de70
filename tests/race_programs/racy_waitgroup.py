# Go: TestRaceWaitGroup (waitgroup_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 16 / write line 16
"""wait orders each done before it, not the goroutines among themselves."""

from goroutines import go
from goroutines.sync import WaitGroup

x = 0
wg = WaitGroup()


def worker(j: int) -> None:
    global x
    x = j
    wg.done()


def main() -> None:
    for i in range(2):
        wg.add(1)
        go(worker, i)
    wg.wait()


main()
