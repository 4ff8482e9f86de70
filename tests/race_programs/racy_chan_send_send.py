# Go: TestRaceChanSendSend (chan_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'v' of Flag object: write line 23 / write line 26
"""Two goroutines try to send on a full-after-one buffered channel with
select/default; the one that finds it full learns that the other sent, but
does not synchronise with it. One function, called with the flags swapped,
so the race is on the same lines whichever goroutine sends first."""

from goroutines import Chan, default, go, select


class Flag:
    def __init__(self) -> None:
        self.v = 0


c: Chan[int] = Chan(1)
compl: Chan[bool] = Chan(2)


def sender(mine: Flag, other: Flag) -> None:
    mine.v = 1
    index, _ = select((c.send, 1), default)
    if index == 1:
        other.v = 2
    compl.send(True)


def main() -> None:
    flag1, flag2 = Flag(), Flag()
    go(sender, flag1, flag2)
    go(sender, flag2, flag1)
    compl.recv()
    compl.recv()


main()
