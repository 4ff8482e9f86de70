# Go: TestRaceChanReadWriteAsync (chan_test.go)
# location: item
# expect: 1 race
# race: item 0 of list: read line 17 / write line 26
"""Reading a value to send races with a write of the value received from
another channel."""

from goroutines import Chan, go

data = [0]
c1: Chan[int] = Chan(10)
c2: Chan[int] = Chan(10)
done: Chan[bool] = Chan()


def sender() -> None:
    c1.send(data[0])
    done.send(True)


def main() -> None:
    c2.send(10)
    go(sender)
    value = c2.recv()
    assert value is not None
    data[0] = value
    done.recv()


main()
