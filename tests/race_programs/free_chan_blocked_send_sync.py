# Go: TestNoRaceBlockedSendSync (chan_test.go)
# location: attribute
# expect: no race
"""A sender that blocked on a full buffered channel still synchronises with
the receive that takes its value."""

from goroutines import Chan, go, time


class Box:
    def __init__(self, v: int) -> None:
        self.v = v


c: Chan[Box | None] = Chan(1)


def sender() -> None:
    c.send(Box(42))


def main() -> None:
    c.send(None)
    go(sender)
    time.sleep(0.01)  # as Go: let the sender block (optional: no race either way)
    c.recv()
    p = c.recv()
    assert p is not None
    assert p.v == 42


main()
