# Go: TestRaceChanCloseClose (chan_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'v' of Flag object: write line 23 / write line 27
"""Two goroutines close the same channel; the close that fails does not
synchronise with the one that succeeded. Go's two closures are one function
here, called with the flags swapped, so the race is on the same lines
whichever goroutine closes first."""

from goroutines import Chan, ClosedChannelError, go


class Flag:
    def __init__(self) -> None:
        self.v = 0


c: Chan[int] = Chan()
compl: Chan[bool] = Chan(2)


def closer(mine: Flag, other: Flag) -> None:
    mine.v = 1
    try:
        c.close()
    except ClosedChannelError:
        other.v = 2
    compl.send(True)


def main() -> None:
    flag1, flag2 = Flag(), Flag()
    go(closer, flag1, flag2)
    go(closer, flag2, flag1)
    compl.recv()
    compl.recv()


main()
