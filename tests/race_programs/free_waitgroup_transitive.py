# Go: TestNoRaceWaitGroupTransitive (waitgroup_test.go)
# location: global
# expect: no race
"""wait is ordered after every done, also the one that did not release it."""

from goroutines import go, time
from goroutines.sync import WaitGroup

x = 0
y = 0
wg = WaitGroup()


def first() -> None:
    global x
    x = 42
    wg.done()


def second() -> None:
    global y
    time.sleep(0.01)
    y = 42
    wg.done()


def main() -> None:
    wg.add(2)
    go(first)
    go(second)
    wg.wait()
    _ = x
    _ = y


main()
