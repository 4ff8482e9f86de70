# Go: TestNoRaceSelect1 (select_test.go)
# location: global
# expect: no race
"""A send case happens before the receive case that takes it."""

from goroutines import Chan, go, select

x = 0
compl: Chan[bool] = Chan()
c: Chan[bool] = Chan()
c1: Chan[bool] = Chan()  # both sides only send on it: never ready


def sender() -> None:
    global x
    x = 1
    select((c.send, True), (c1.send, True))
    compl.send(True)


def main() -> None:
    global x
    go(sender)
    select(c.recv, (c1.send, True))
    x = 2
    compl.recv()


main()
