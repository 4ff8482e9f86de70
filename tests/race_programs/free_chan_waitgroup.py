# Go: TestNoRaceChanWaitGroup (chan_test.go)
# location: item
# expect: no race
"""A buffered channel used as a wait group: filling it to capacity after the
workers' receives waits for all of them (k-th receive before the (k+C)-th
send completes)."""

from goroutines import Chan, go

N = 10
chan_wg: Chan[bool] = Chan(N // 2)
data = [0] * N


def worker(i: int) -> None:
    data[i] = 42
    chan_wg.recv()


def main() -> None:
    for i in range(N):
        chan_wg.send(True)
        go(worker, i)
    for _ in range(chan_wg.cap):
        chan_wg.send(True)
    for i in range(N):
        _ = data[i]


main()
