# Go: TestNoRaceSelectMutex (chan_test.go)
# location: attribute
# expect: no race
"""TestNoRaceChanMutex with every channel operation a select case."""

from goroutines import Chan, go, select


class Box:
    def __init__(self) -> None:
        self.data = 0


box = Box()
mtx: Chan[None] = Chan(1)
aux: Chan[bool] = Chan()  # never ready
done: Chan[None] = Chan()


def worker() -> None:
    select((mtx.send, None), aux.recv)
    box.data = 42
    select(mtx.recv, aux.recv)
    done.send(None)


def main() -> None:
    go(worker)
    select((mtx.send, None), aux.recv)
    box.data = 43
    select(mtx.recv, aux.recv)
    done.recv()


main()
