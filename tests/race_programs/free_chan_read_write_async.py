# Go: TestNoRaceChanReadWriteAsync (chan_test.go)
# location: attribute
# expect: no race
"""Reading a value and sending it happens before the receiver stores what it
received in the same place."""

from goroutines import Chan, go


class Box:
    def __init__(self) -> None:
        self.v = 0


box = Box()
c1: Chan[int] = Chan(10)
done: Chan[bool] = Chan()


def sender() -> None:
    c1.send(box.v)
    done.send(True)


def main() -> None:
    go(sender)
    value = c1.recv()
    assert value is not None
    box.v = value
    done.recv()


main()
