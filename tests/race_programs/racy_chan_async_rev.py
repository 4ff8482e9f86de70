# Go: TestRaceChanAsyncRev (chan_test.go)
# location: global
# expect: 1 race
# race: global 'v' of module __main__: write line 19 / write line 26
"""On a buffered channel the receive does not happen before the send
completes: what the sender writes after its send races with what the
receiver wrote before its receive."""

from goroutines import Chan, go

v = 0
c: Chan[int] = Chan(10)
done: Chan[bool] = Chan()


def sender() -> None:
    global v
    c.send(0)
    v = 1
    done.send(True)


def main() -> None:
    global v
    go(sender)
    v = 2
    c.recv()
    done.recv()


main()
