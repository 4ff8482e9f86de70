"""Seed 000, "Go Concurrency" (notes from a Golang index), the
checkAndSaveBody program, ported to goroutines.

Check several sites at once, one goroutine per URL, save each page's body to
a file, and wait for all of them with a WaitGroup. The HTTP requests are
simulated (fixed answers after a short delay) so that the example runs offline.

Run it with:  python examples/seeds/url_checker.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import goroutines
from goroutines import blocking, go, runtime
from goroutines import time as gotime
from goroutines.sync import WaitGroup

# Simulated web: URL -> (status, body). A missing URL is "down".
PAGES = {
    "https://golang.org": (200, b"<html>The Go Programming Language</html>"),
    "https://www.python.org": (200, b"<html>Welcome to Python.org</html>"),
}


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def http_get(url: str) -> tuple[int, bytes]:
    """A stand-in for Go's http.Get: the answer after 50 ms of "network"."""
    gotime.sleep(0.05)  # parks this goroutine; the other checks go on meanwhile
    if url not in PAGES:
        raise ConnectionError(f"cannot reach {url}")
    return PAGES[url]


def check_and_save_body(url: str, folder: Path, wg: WaitGroup) -> None:
    try:
        try:
            status, body = http_get(url)
        except ConnectionError:
            echo(f"{url} is DOWN!")
            return
        name = url.removeprefix("https://") + ".txt"
        echo(f"Status Code: {status}  Writing response Body to {name}")
        # A file write blocks its OS thread; blocking() runs it on a helper
        # thread so that the worker keeps running other goroutines.
        blocking((folder / name).write_bytes, body)
    finally:
        wg.done()


def main() -> None:
    urls = ["https://golang.org", "https://www.python.org", "https://example.invalid"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wg = WaitGroup()
        wg.add(len(urls))  # one count per goroutine, added before any starts
        for url in urls:
            go(check_and_save_body, url, folder, wg)

        # The three checks are all waiting on the network now: with main, four.
        echo("No. of Goroutines:", runtime.num_goroutine())
        wg.wait()
        echo("saved:", sorted(path.name for path in folder.iterdir()))


if __name__ == "__main__":
    goroutines.run(main)
