# Go: TestNoRaceChanSyncRev (chan_test.go)
# location: attribute
# expect: no race
"""A receive from an unbuffered channel happens before the send completes."""

from goroutines import Chan, go


class Box:
    def __init__(self) -> None:
        self.v = 0


box = Box()
c: Chan[int] = Chan()
done: Chan[bool] = Chan()


def sender() -> None:
    c.send(0)
    box.v = 2
    done.send(True)


def main() -> None:
    go(sender)
    box.v = 1
    c.recv()
    done.recv()


main()
