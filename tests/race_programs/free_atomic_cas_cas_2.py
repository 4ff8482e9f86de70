# Go: TestNoRaceAtomicCASCASInt32_2 (atomic_test.go)
# location: attribute
# expect: no race
"""A compare-and-swap that fails because of another one still observed it,
so it is ordered after it: only the loser writes the winner's flag. One
function, called with the flags swapped."""

from goroutines import Chan, atomic, go


class Flag:
    def __init__(self) -> None:
        self.v = 0


s = atomic.Int()
ch: Chan[bool] = Chan(2)


def worker(mine: Flag, other: Flag) -> None:
    mine.v = 1
    if not s.compare_and_swap(0, 1):
        other.v = 1
    ch.send(True)


def main() -> None:
    flag1, flag2 = Flag(), Flag()
    go(worker, flag1, flag2)
    go(worker, flag2, flag1)
    ch.recv()
    ch.recv()


main()
