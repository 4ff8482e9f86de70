# Go: TestNoRaceChanPtr (chan_test.go)
# location: attribute
# expect: no race
"""An object built by one goroutine and sent over a channel may be written by
the receiver."""

from goroutines import Chan, go


class Msg:
    def __init__(self, x: int) -> None:
        self.x = x


c: Chan[Msg] = Chan()


def sender() -> None:
    c.send(Msg(1))


def main() -> None:
    go(sender)
    m = c.recv()
    assert m is not None
    m.x = 2


main()
