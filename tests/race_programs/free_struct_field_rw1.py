# Go: TestNoRaceStructFieldRW1 (mop_test.go)
# location: attribute
# expect: no race
"""Two attributes of one object are two locations."""

from goroutines import Chan, go


class Point:
    def __init__(self) -> None:
        self.x = 0
        self.y = 0


p = Point()
ch: Chan[bool] = Chan(1)


def writer() -> None:
    p.x = 1
    ch.send(True)


def main() -> None:
    go(writer)
    p.y = 1
    ch.recv()
    _ = (p.x, p.y)


main()
