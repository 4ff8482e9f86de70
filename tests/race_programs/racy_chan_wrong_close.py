# Go: TestRaceChanWrongClose (chan_test.go)
# location: global
# expect: 1 race
# race: global 'v2' of module __main__: write line 30 / write line 42
"""A receive that returns a buffered value does not synchronise with a close
that happened before it. Go orders the close after the send with a sleep;
here the closer waits for the sender instead (an edge from the sender, which
does not order the closer's write before the receiver)."""

from goroutines import Chan, go, time

v1 = 0
v2 = 0
c: Chan[int] = Chan(1)
sent: Chan[bool] = Chan(1)
done: Chan[bool] = Chan(2)


def sender() -> None:
    global v1
    v1 = 1
    c.send(1)
    sent.send(True)
    done.send(True)


def closer() -> None:
    global v2
    sent.recv()
    v2 = 2
    c.close()
    done.send(True)


def main() -> None:
    global v1, v2
    go(sender)
    go(closer)
    time.sleep(0.02)  # as Go: let the close come first (the race is there either way)
    _, ok = c.recv_ok()
    if ok:
        v2 = 2
    else:
        v1 = 2
    done.recv()
    done.recv()


main()
