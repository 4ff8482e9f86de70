# Go: TestNoRaceSelect5 (select_test.go)
# location: attribute
# expect: no race
"""Send before receive, with and without select on either side, with and
without a yield before the send."""

from goroutines import Chan, go, runtime, select


class Box:
    def __init__(self) -> None:
        self.x = 0


def test(sel: bool, need_sched: bool) -> None:
    box = Box()
    ch: Chan[bool] = Chan()
    c1: Chan[bool] = Chan()
    done: Chan[bool] = Chan(2)

    def sender() -> None:
        if need_sched:
            runtime.gosched()
        box.x = 1
        if sel:
            select((ch.send, True), c1.recv)
        else:
            ch.send(True)
        done.send(True)

    def receiver() -> None:
        if sel:
            select(ch.recv, c1.recv)
        else:
            ch.recv()
        box.x = 1
        done.send(True)

    go(sender)
    go(receiver)
    done.recv()
    done.recv()


def main() -> None:
    test(True, True)
    test(True, False)
    test(False, True)
    test(False, False)


main()
