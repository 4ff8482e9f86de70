# Go: TestNoRaceAfterFunc3 (sync_test.go)
# location: item
# expect: no race
"""after_func orders its creation before the callback, and the callback's
send before the receive."""

from goroutines import Chan, time

data = [0]
c: Chan[bool] = Chan(1)


def callback() -> None:
    data[0] = 1
    c.send(True)


def main() -> None:
    data[0] = 0
    time.after_func(0.01, callback)
    c.recv()
    _ = data[0]


main()
