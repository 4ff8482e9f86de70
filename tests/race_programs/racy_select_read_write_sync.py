# Go: TestRaceSelectReadWriteSync (chan_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: read line 26 / write line 38
"""As TestRaceSelectReadWriteAsync, with unbuffered channels made ready by
helper goroutines."""

from goroutines import Chan, go, select

x = 0
c1: Chan[int] = Chan()
c2: Chan[int] = Chan()
c3: Chan[int] = Chan()  # both sides only send on it: never ready
done: Chan[bool] = Chan()


def drain() -> None:
    c1.recv()


def feed() -> None:
    c2.send(1)


def sender() -> None:
    select((c1.send, x), (c3.send, 1))
    done.send(True)


def main() -> None:
    global x
    go(drain)
    go(feed)
    go(sender)
    index, value = select(c2.recv, (c3.send, 1))
    if index == 0:
        assert isinstance(value, int)
        x = value
    done.recv()


main()
