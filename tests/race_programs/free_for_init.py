# Go: TestNoRaceForInit (mop_test.go)
# location: item
# expect: no race
"""A write before the sends is ordered before the receiver's increments, and
they after each other."""

from goroutines import Chan, go

data = [0]
done: Chan[bool] = Chan()
c: Chan[bool] = Chan()


def receiver() -> None:
    while True:
        _, ok = c.recv_ok()
        if not ok:
            done.send(True)
            return
        data[0] += 1


def main() -> None:
    go(receiver)
    data[0] = 42
    for _ in range(10):
        c.send(True)
    c.close()
    done.recv()


main()
