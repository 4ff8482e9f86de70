# Go: TestRaceIntRWGlobalFuncs (mop_test.go)
# location: global
# expect: 1 race
# race: global 'global_x' of module __main__: read line 16 / write line 22
"""One goroutine reads a global that another writes."""

from goroutines import Chan, go

global_x = 0
global_y = 0
global_ch: Chan[int] = Chan(2)


def global_func1() -> None:
    global global_y
    global_y = global_x
    global_ch.send(1)


def global_func2() -> None:
    global global_x
    global_x = 1
    global_ch.send(1)


def main() -> None:
    go(global_func1)
    go(global_func2)
    global_ch.recv()
    global_ch.recv()


main()
