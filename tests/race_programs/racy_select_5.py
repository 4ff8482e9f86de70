# Go: TestRaceSelect5 (select_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'v' of Box object: write line 25 / read line 33
"""Of two variables, the select always takes the case that writes the one
that is not synchronised (c2 has no receiver), so exactly one race."""

from goroutines import Chan, go, select


class Box:
    def __init__(self) -> None:
        self.v = 0


x, y = Box(), Box()
done: Chan[bool] = Chan(1)
c1: Chan[bool] = Chan(1)
c2: Chan[bool] = Chan()


def writer() -> None:
    index, _ = select((c1.send, True), (c2.send, True))
    if index == 0:
        x.v = 1
    else:
        y.v = 1
    done.send(True)


def main() -> None:
    go(writer)
    _ = x.v
    _ = y.v
    done.recv()


main()
