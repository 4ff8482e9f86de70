# Go: TestRaceChanCloseLen (chan_test.go)
# location: item
# expect: 1 race
# race: item 0 of list: write line 15 / write line 25
"""len(ch) after a close does not synchronise with the close."""

from goroutines import Chan, go, time

data = [0]
c: Chan[int] = Chan(10)
done: Chan[bool] = Chan()


def closer() -> None:
    data[0] = 1
    c.close()
    done.send(True)


def main() -> None:
    c.send(0)
    go(closer)
    time.sleep(0.01)
    _ = len(c)
    data[0] = 2
    done.recv()


main()
