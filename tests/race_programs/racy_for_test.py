# Go: TestRaceForTest (mop_test.go)
# location: global
# expect: 1 race
# race: global 'stop' of module __main__: write line 22 / read line 27
"""A loop condition re-read after each send races with the receiver's write
after its receive (the receive orders only what came before the send)."""

from goroutines import Chan, go

stop = False
done: Chan[bool] = Chan()
c: Chan[bool] = Chan()


def receiver() -> None:
    global stop
    while True:
        _, ok = c.recv_ok()
        if not ok:
            done.send(True)
            return
        stop = True


def main() -> None:
    go(receiver)
    while not stop:
        c.send(True)
    c.close()
    done.recv()


main()
