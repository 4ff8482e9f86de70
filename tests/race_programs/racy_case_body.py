# Go: TestRaceCaseBody (mop_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of State object: read line 22 / write line 30
"""A write in the default branch of a switch (here an if/else) races with a
read; the condition's own read does not conflict with it."""

from goroutines import Chan, go


class State:
    def __init__(self) -> None:
        self.x = 0
        self.y = 0


state = State()
ch: Chan[int] = Chan(2)


def reader() -> None:
    state.y = state.x
    ch.send(1)


def switcher() -> None:
    if state.x == 100:
        state.x = -state.x
    else:
        state.x = 1
    ch.send(1)


def main() -> None:
    go(reader)
    go(switcher)
    ch.recv()
    ch.recv()


main()
