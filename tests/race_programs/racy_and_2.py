# Go: TestRaceAnd2 (mop_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 16 / read line 22
"""`y == 0 and x == 1` reads x: the short circuit does not skip it."""

from goroutines import Chan, go

x = 0
y = 0
c: Chan[bool] = Chan()


def writer() -> None:
    global x
    x = 1
    c.send(True)


def main() -> None:
    go(writer)
    _ = y == 0 and x == 1
    c.recv()


main()
