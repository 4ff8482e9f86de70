# Go: TestNoRaceChanAsyncCloseRecv2 (chan_test.go)
# location: attribute
# expect: no race
"""A close happens before a receive that returns because the channel is
closed (buffered channel, `v, ok` form)."""

from goroutines import Chan, go


class Box:
    def __init__(self) -> None:
        self.v = 0


box = Box()
c: Chan[int] = Chan(10)


def closer() -> None:
    box.v = 1
    c.close()


def main() -> None:
    go(closer)
    c.recv_ok()
    box.v = 2


main()
