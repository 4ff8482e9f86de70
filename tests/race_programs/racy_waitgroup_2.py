# Go: TestRaceWaitGroup2 (waitgroup_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of Box object: write line 21 / write line 26
"""Correct use of a WaitGroup, and still a race between the workers."""

from goroutines import go
from goroutines.sync import WaitGroup


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
wg = WaitGroup()


def first() -> None:
    box.x = 1
    wg.done()


def second() -> None:
    box.x = 2
    wg.done()


def main() -> None:
    wg.add(2)
    go(first)
    go(second)
    wg.wait()


main()
