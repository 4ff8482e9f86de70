"""Seed 002, "Go Goroutines and Concurrency Fundamentals", section "Real-World
Example: Concurrent Web Scraper", ported to goroutines.

Fetch pages concurrently, send each outcome on a results channel, close the
channel when the last fetcher is done, and range over the results. The
fetches are simulated so that the example runs offline.

Run it with:  python examples/seeds/web_scraper.py
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

import goroutines
from goroutines import Chan, SendChan, go
from goroutines import time as gotime
from goroutines.sync import WaitGroup

# Simulated web: URL -> (status, size of the body). Missing URLs fail.
PAGES = {
    "https://golang.org": (200, 61_952),
    "https://github.com": (200, 286_114),
    "https://stackoverflow.com": (200, 173_250),
    "https://news.ycombinator.com": (200, 34_507),
}


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


@dataclass
class Result:
    url: str
    status: int = 0
    size: int = 0
    err: Exception | None = None


def http_get(url: str) -> tuple[int, bytes]:
    """A stand-in for http.Get plus io.ReadAll: some latency, then the page."""
    gotime.sleep(random.uniform(0.02, 0.08))
    if url not in PAGES:
        raise ConnectionError(f"dial tcp: lookup {url.removeprefix('https://')}: no such host")
    status, size = PAGES[url]
    return status, bytes(size)


def fetch(url: str, results: SendChan[Result], wg: WaitGroup) -> None:
    try:
        start = gotime.now()
        try:
            status, body = http_get(url)
        except ConnectionError as err:
            results.send(Result(url, err=err))
            return
        results.send(Result(url, status=status, size=len(body)))
        echo(f"Fetched {url} in {gotime.since(start) * 1000:.0f} ms")
    finally:
        wg.done()


def main() -> None:
    urls = [*PAGES, "https://reddit.invalid"]
    # Room for every result, so no fetcher ever waits for the collector.
    results: Chan[Result] = Chan(len(urls))
    wg = WaitGroup()
    for url in urls:
        wg.add(1)
        go(fetch, url, results.send_only(), wg)

    # Close results once every fetcher is done; that ends the loop below.
    def close_when_done() -> None:
        wg.wait()
        results.close()

    go(close_when_done)

    ok = 0
    for result in results:
        if result.err is not None:
            echo(f"FAIL {result.url}: {result.err}")
        else:
            ok += 1
            echo(f"OK   {result.url}: {result.status} ({result.size} bytes)")
    echo(f"{ok} of {len(urls)} pages fetched")


if __name__ == "__main__":
    goroutines.run(main)
