# Go: TestNoRaceSelect3 (select_test.go)
# location: item
# expect: no race
"""A select's send case on a buffered channel happens before the receive that
takes the value."""

from goroutines import Chan, go, select

data = [0]
compl: Chan[bool] = Chan()
c: Chan[bool] = Chan(10)
c1: Chan[bool] = Chan()


def sender() -> None:
    data[0] = 1
    select((c.send, True), c1.recv)
    compl.send(True)


def main() -> None:
    go(sender)
    c.recv()
    data[0] = 2
    compl.recv()


main()
