# Go: TestRaceTLS (mop_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'v' of Box object: write line 23 / write line 33
"""An object handed to another goroutine and still written by its owner after
the send races with the other's write; handing it back orders the rest."""

from goroutines import Chan, go


class Box:
    def __init__(self) -> None:
        self.v = 0


comm: Chan[Box] = Chan()
done: Chan[bool] = Chan(2)


def owner() -> None:
    x = Box()
    comm.send(x)
    x.v = 1
    back = comm.recv()
    assert back is not None
    x.v = back.v
    done.send(True)


def borrower() -> None:
    p = comm.recv()
    assert p is not None
    p.v = 2
    comm.send(p)
    done.send(True)


def main() -> None:
    go(owner)
    go(borrower)
    done.recv()
    done.recv()


main()
