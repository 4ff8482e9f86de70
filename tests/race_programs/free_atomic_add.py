# Go: TestNoRaceAtomicAddInt64 (atomic_test.go)
# location: attribute
# expect: no race
"""The goroutine whose add comes second sees the other's add, so it may write
the other's flag. Go's two closures are one function, called with the flags
swapped."""

from goroutines import Chan, atomic, go


class Flag:
    def __init__(self) -> None:
        self.v = 0


s = atomic.Int()
ch: Chan[bool] = Chan(2)


def worker(mine: Flag, other: Flag) -> None:
    mine.v = 1
    if s.add(1) == 2:
        other.v = 1
    ch.send(True)


def main() -> None:
    flag1, flag2 = Flag(), Flag()
    go(worker, flag1, flag2)
    go(worker, flag2, flag1)
    ch.recv()
    ch.recv()


main()
