# Go: TestRaceSelectReadWriteAsync (chan_test.go)
# location: attribute
# expect: 1 race
# race: attribute 'v' of Box object: read line 24 / write line 34
"""The value of a send case is read before the select; it races with a write
by a select that received from another, buffered, channel."""

from goroutines import Chan, go, select


class Box:
    def __init__(self) -> None:
        self.v = 0


box = Box()
c1: Chan[int] = Chan(10)
c2: Chan[int] = Chan(10)
c3: Chan[int] = Chan()  # both sides only send on it: never ready
done: Chan[bool] = Chan()


def sender() -> None:
    select((c1.send, box.v), (c3.send, 1))
    done.send(True)


def main() -> None:
    c2.send(1)
    go(sender)
    index, value = select(c2.recv, (c3.send, 1))
    if index == 0:
        assert isinstance(value, int)
        box.v = value
    done.recv()


main()
