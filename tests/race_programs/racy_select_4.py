# Go: TestRaceSelect4 (select_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 17 / read line 23
"""A select that takes its default case synchronises with nothing."""

from goroutines import Chan, default, go, select

x = 0
done: Chan[bool] = Chan(1)


def writer() -> None:
    global x
    index, _ = select(default)
    if index == 0:
        x = 2
    done.send(True)


def main() -> None:
    go(writer)
    _ = x
    done.recv()


main()
