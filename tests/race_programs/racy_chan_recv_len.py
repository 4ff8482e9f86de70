# Go: TestRaceChanRecvLen (chan_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'v' of Box object: write line 20 / write line 29
"""len(ch) observes a receive but does not synchronise with it."""

from goroutines import Chan, go, runtime


class Box:
    def __init__(self) -> None:
        self.v = 0


box = Box()
c: Chan[int] = Chan(10)


def receiver() -> None:
    box.v = 1
    c.recv()


def main() -> None:
    c.send(1)
    go(receiver)
    while len(c) != 0:
        runtime.gosched()
    box.v = 2


main()
