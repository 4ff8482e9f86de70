# Go: TestRaceChanSendLen (chan_test.go)
# location: global
# expect: 1 race
# race: global 'v' of module __main__: write line 15 / write line 24
"""len(ch) observes a send but does not synchronise with it."""

from goroutines import Chan, go, runtime

v = 0
c: Chan[int] = Chan(10)


def sender() -> None:
    global v
    v = 1
    c.send(1)


def main() -> None:
    global v
    go(sender)
    while len(c) == 0:
        runtime.gosched()
    v = 2


main()
