# Go: TestRaceBlockCall1 (mop_test.go)
# location: global
# expect: 1 race
# race: global 'x' of module __main__: write line 21 / read line 27
"""A tuple assignment from a call writes each target: x races with a read;
y, read only after the receive, does not."""

from goroutines import Chan, go

x = 0
y = 0
done: Chan[bool] = Chan()


def pair() -> tuple[int, int]:
    return 42, 43


def writer() -> None:
    global x, y
    x, y = pair()
    done.send(True)


def main() -> None:
    go(writer)
    _ = x
    done.recv()
    if x != 42 or y != 43:
        raise AssertionError("corrupted data")


main()
