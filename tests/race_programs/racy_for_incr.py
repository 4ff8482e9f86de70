# Go: TestRaceForIncr (mop_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'x' of Box object: write line 27 / write line 36
"""A loop's increment after each send races with the receiver's increment
after each receive (`+=` is one write)."""

from goroutines import Chan, go


class Box:
    def __init__(self) -> None:
        self.x = 0


box = Box()
done: Chan[bool] = Chan()
c: Chan[bool] = Chan()


def receiver() -> None:
    while True:
        _, ok = c.recv_ok()
        if not ok:
            done.send(True)
            return
        box.x += 1


def main() -> None:
    go(receiver)
    i = 0
    while i < 10:
        i += 1
        c.send(True)
        box.x += 1
    c.close()
    done.recv()


main()
