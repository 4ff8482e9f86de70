# Go: TestRaceSelect3 (select_test.go)
# location: item
# expect: 1 race
# race: item 0 of list: write line 17 / write line 24
"""A write before a receive is not ordered with the sender's write before
its send."""

from goroutines import Chan, go, select

data = [0]
compl: Chan[bool] = Chan()
c: Chan[bool] = Chan()
c1: Chan[bool] = Chan()  # nobody receives: never ready


def sender() -> None:
    data[0] = 1
    select((c.send, True), (c1.send, True))
    compl.send(True)


def main() -> None:
    go(sender)
    data[0] = 2
    select(c.recv)
    compl.recv()


main()
