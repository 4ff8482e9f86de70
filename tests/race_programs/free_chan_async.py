# Go: TestNoRaceChanAsync (chan_test.go)
# location: item
# expect: no race
"""A send on a buffered channel happens before the receive completes."""

from goroutines import Chan, go

data = [0]
c: Chan[int] = Chan(10)


def sender() -> None:
    data[0] = 1
    c.send(0)


def main() -> None:
    go(sender)
    c.recv()
    data[0] = 2


main()
