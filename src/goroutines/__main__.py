"""``python -m goroutines``: the ``goroutines`` command (see ``goroutines._cli``)."""

from goroutines._cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m goroutines"))
