# Go: TestNoRaceChanMutex (chan_test.go)
# location: item
# expect: no race
"""A channel of capacity 1 used as a mutex: the k-th receive happens before
the (k+1)-th send completes."""

from goroutines import Chan, go

state = {"data": 0}
mtx: Chan[None] = Chan(1)
done: Chan[None] = Chan()


def worker() -> None:
    mtx.send(None)
    state["data"] = 42
    mtx.recv()
    done.send(None)


def main() -> None:
    go(worker)
    mtx.send(None)
    state["data"] = 43
    mtx.recv()
    done.recv()


main()
