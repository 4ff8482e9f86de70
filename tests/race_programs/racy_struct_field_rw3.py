# Go: TestRaceStructFieldRW3 (mop_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of Point object: write line 28 / read line 34
"""A nested attribute: both goroutines only read `named.p`, the race is on
the inner object's `x`."""

from goroutines import Chan, go


class Point:
    def __init__(self) -> None:
        self.x = 0
        self.y = 0


class NamedPoint:
    def __init__(self, name: str, p: Point) -> None:
        self.name = name
        self.p = p


named = NamedPoint("a", Point())
ch: Chan[bool] = Chan(1)


def writer() -> None:
    named.p.x = 1
    ch.send(True)


def main() -> None:
    go(writer)
    _ = named.p.x
    ch.recv()


main()
