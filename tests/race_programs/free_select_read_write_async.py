# Go: TestNoRaceSelectReadWriteAsync (chan_test.go)
# location: global
# expect: no race
"""A send case's value is read before the send, which happens before the
receive case that takes it, after which the receiver writes."""

from goroutines import Chan, go, select

x = 0
c1: Chan[int] = Chan()
c2: Chan[int] = Chan()  # both sides only send on it: never ready
done: Chan[bool] = Chan()


def sender() -> None:
    select((c1.send, x), (c2.send, 1))
    done.send(True)


def main() -> None:
    global x
    go(sender)
    index, value = select(c1.recv, (c2.send, 1))
    if index == 0:
        assert isinstance(value, int)
        x = value
    done.recv()


main()
