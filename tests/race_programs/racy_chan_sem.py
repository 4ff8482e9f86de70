# Go: TestRaceChanSem (chan_test.go)
# location: global
# expect: 1 race
# race: global 'data' of module __main__: write line 18 / write line 27
"""A channel of capacity 2 used as a mutex lets both goroutines in: the k-th
receive orders only the (k+2)-th send."""

from goroutines import Chan, go

data = 0
mtx: Chan[bool] = Chan(2)
done: Chan[None] = Chan()


def worker() -> None:
    global data
    mtx.send(True)
    data = 42
    mtx.recv()
    done.send(None)


def main() -> None:
    global data
    go(worker)
    mtx.send(True)
    data = 43
    mtx.recv()
    done.recv()


main()
