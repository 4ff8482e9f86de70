# Go: TestRaceAtomicAddInt64 (atomic_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'v' of Flag object: write line 22 / write line 24
"""The goroutine whose add comes first has not seen the other's write: its
write of the other's flag races. One function, called with the flags swapped,
so the race is on the same lines whichever adds first."""

from goroutines import Chan, atomic, go


class Flag:
    def __init__(self) -> None:
        self.v = 0


s = atomic.Int()
ch: Chan[bool] = Chan(2)


def worker(mine: Flag, other: Flag) -> None:
    mine.v = 1
    if s.add(1) == 1:
        other.v = 1
    ch.send(True)


def main() -> None:
    flag1, flag2 = Flag(), Flag()
    go(worker, flag1, flag2)
    go(worker, flag2, flag1)
    ch.recv()
    ch.recv()


main()
