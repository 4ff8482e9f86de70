# Go: TestNoRaceChanSync (chan_test.go)
# location: global
# expect: no race
"""A send on an unbuffered channel happens before the receive completes."""

from goroutines import Chan, go

v = 0
c: Chan[int] = Chan()


def sender() -> None:
    global v
    v = 1
    c.send(0)


def main() -> None:
    global v
    go(sender)
    c.recv()
    v = 2


main()
