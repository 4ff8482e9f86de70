# Go: TestNoRaceWaitGroup2 (waitgroup_test.go)
# location: attribute
# expect: no race
"""done happens before the wait it releases."""

from goroutines import go
from goroutines.sync import WaitGroup


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
wg = WaitGroup()


def worker() -> None:
    box.x = 1
    wg.done()


def main() -> None:
    wg.add(1)
    go(worker)
    wg.wait()
    box.x = 2


main()
