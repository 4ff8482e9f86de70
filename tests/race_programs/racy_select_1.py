# Go: TestRaceSelect1 (select_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 24 / write line 24
"""Two goroutines each send to the same receiver; neither send orders the
other goroutine's write after it (the same line in both)."""

from goroutines import Chan, go, select

x = 0
compl: Chan[bool] = Chan(2)
c: Chan[bool] = Chan()
c1: Chan[bool] = Chan()  # nobody receives: never ready


def receiver() -> None:
    c.recv()
    c.recv()


def f() -> None:
    global x
    select((c.send, True), (c1.send, True))
    x = 1
    compl.send(True)


def main() -> None:
    go(receiver)
    go(f)
    go(f)
    compl.recv()
    compl.recv()


main()
