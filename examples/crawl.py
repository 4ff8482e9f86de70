"""Crawl a thousand-page web site with goroutines and plain ``urllib``.

The program starts its own HTTP server on 127.0.0.1 (no internet needed),
serving a generated site of linked pages, some slow and some failing; the
server is goroutines too, one per connection. Then it crawls the site:

- one goroutine per page found, started by an ``errgroup``;
- a ``semaphore`` bounding how many fetches are in flight at once;
- a ``context`` with a deadline that ends the crawl if it takes too long;
- a coordinator that owns the set of pages seen, and ``select``s between
  results, a progress ticker and the deadline (a select with a timeout).

The fetches are ordinary blocking ``urllib.request.urlopen`` calls: after
``goroutines.patch()`` each one parks only its goroutine while it waits for
the network. Finally the same crawl runs sequentially, for comparison.

Run it with:  python examples/crawl.py   (--help for the knobs)
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import goroutines
from goroutines import Chan, context, errgroup, go, runtime, select, semaphore
from goroutines import time as gotime

LINK = re.compile(rb'href="(/page/\d+)"')


# ---- the site ------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A generated web site: page ``i`` links to a few others. Some pages are
    slow to serve, some fail, and a few links lead nowhere (404)."""

    pages: int
    links: dict[int, list[int]]
    slow: frozenset[int]
    failing: frozenset[int]
    delay: float

    @classmethod
    def generate(cls, pages: int, seed: int, delay: float) -> Site:
        rng = random.Random(seed)
        links = {
            # Every page links to the next one, so the whole site is reachable,
            # and to a few pages anywhere; now and then to one that does not exist.
            i: [(i + 1) % pages]
            + [rng.randrange(pages) for _ in range(4)]
            + ([pages + rng.randrange(pages)] if rng.random() < 0.02 else [])
            for i in range(pages)
        }
        slow = frozenset(rng.sample(range(1, pages), pages // 50))
        failing = frozenset(rng.sample(range(1, pages), pages // 50))
        return cls(pages, links, slow, failing, delay)

    def page(self, number: int) -> tuple[int, bytes]:
        """(HTTP status, body) of ``/page/<number>``."""
        if number not in self.links:
            return 404, b"no such page"
        if number in self.slow:
            time.sleep(self.delay)  # patched: parks only this connection's goroutine
        if number in self.failing:
            return 500, b"internal error"
        anchors = "".join(f'<a href="/page/{n}">page {n}</a>\n' for n in self.links[number])
        return 200, f"<html><body><h1>Page {number}</h1>\n{anchors}</body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        match = re.fullmatch(r"/page/(\d+)", self.path)
        status, body = self.site.page(int(match.group(1))) if match else (404, b"")
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


def serve(site: Site) -> str:
    """Start serving ``site`` on 127.0.0.1 in goroutines; return its base URL."""
    handler = type("Handler", (_Handler,), {"site": site})
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)

    def accept_loop() -> None:
        while True:
            conn, address = listener.accept()
            go(handle, conn, address)

    def handle(conn: socket.socket, address: Any) -> None:
        with conn, contextlib.suppress(ConnectionError):  # the client hung up: drop it
            handler(conn, address, None)

    go(accept_loop)
    host, port = listener.getsockname()[:2]
    return f"http://{host}:{port}"


# ---- the crawler --------------------------------------------------------------------------


@dataclass
class Page:
    url: str
    status: int
    links: list[str] = field(default_factory=list)


def fetch(url: str, timeout: float) -> Page:
    """GET one page with plain urllib. An HTTP error is a result, not a
    failure; so is a network error or a timeout (status 0)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        return Page(url, error.code)
    except OSError:  # URLError, TimeoutError, ConnectionError
        return Page(url, 0)
    base = url.split("/page/")[0]
    return Page(url, 200, [base + link.decode() for link in LINK.findall(body)])


@dataclass
class Summary:
    pages: int = 0
    errors: int = 0
    seconds: float = 0.0
    peak_goroutines: int = 0
    finished: bool = True

    def line(self, title: str) -> str:
        rate = self.pages / self.seconds if self.seconds else 0.0
        state = "" if self.finished else "  (stopped at the deadline)"
        return (
            f"{title}: {self.pages} pages, {self.errors} errors, {self.seconds:.2f} s, "
            f"{rate:.0f} pages/s, peak {self.peak_goroutines} goroutines{state}"
        )


def crawl(root: str, *, in_flight: int, deadline: float, progress: float = 0.5) -> Summary:
    """Crawl everything reachable from ``root``, fetching at most ``in_flight``
    pages at once, giving up after ``deadline`` seconds."""
    summary = Summary()
    start = gotime.now()
    ctx, cancel = context.with_timeout(context.background(), deadline)
    stop_at = start + deadline
    group, group_ctx = errgroup.with_context(ctx)
    fetches = semaphore.Weighted(in_flight)
    results: Chan[Page] = Chan()

    def visit(url: str) -> None:
        fetches.acquire(group_ctx)  # raises when the crawl is cancelled
        try:
            page = fetch(url, timeout=max(0.001, stop_at - gotime.now()))
        finally:
            fetches.release()
        select((results.send, page), group_ctx.done().recv)  # don't wait for a gone coordinator

    seen = {root}
    group.go(visit, root)
    pending = 1
    ticker = gotime.Ticker(progress)
    try:
        while pending:
            summary.peak_goroutines = max(summary.peak_goroutines, runtime.num_goroutine())
            index, value = select(results.recv, ticker.c.recv, group_ctx.done().recv)
            if index == 0:
                page: Page = value
                pending -= 1
                summary.pages += 1
                summary.errors += page.status != 200
                for link in page.links:
                    if link not in seen:
                        seen.add(link)
                        pending += 1
                        group.go(visit, link)
            elif index == 1:
                print(
                    f"  ... {summary.pages} pages, {summary.errors} errors, "
                    f"{pending} to go, {runtime.num_goroutine()} goroutines"
                )
            else:
                summary.finished = False
                break
    finally:
        ticker.stop()
        cancel()
    with contextlib.suppress(context.Canceled, context.DeadlineExceeded):
        group.wait()  # raises the deadline's error if visits were stopped by it
    summary.seconds = gotime.since(start)
    return summary


def crawl_sequentially(root: str, *, deadline: float) -> Summary:
    """The same crawl, one page at a time."""
    summary = Summary(peak_goroutines=runtime.num_goroutine())
    start = gotime.now()
    seen, queue = {root}, [root]
    while queue:
        if gotime.since(start) > deadline:
            summary.finished = False
            break
        page = fetch(queue.pop(), timeout=deadline)
        summary.pages += 1
        summary.errors += page.status != 200
        for link in page.links:
            if link not in seen:
                seen.add(link)
                queue.append(link)
    summary.seconds = gotime.since(start)
    return summary


def main(options: argparse.Namespace) -> None:
    site = Site.generate(options.pages, options.seed, options.delay)
    root = serve(site) + "/page/0"
    print(
        f"serving {site.pages} pages at {root} "
        f"({len(site.slow)} slow by {site.delay:g} s, {len(site.failing)} failing)"
    )
    print(f"crawling: at most {options.in_flight} fetches at once, deadline {options.deadline:g} s")
    concurrent = crawl(root, in_flight=options.in_flight, deadline=options.deadline)
    print(concurrent.line("concurrent"))
    if options.sequential:
        print("crawling again, one page at a time ...")
        sequential = crawl_sequentially(root, deadline=options.deadline)
        print(sequential.line("sequential"))
        if concurrent.seconds and sequential.finished:
            print(f"goroutines were {sequential.seconds / concurrent.seconds:.1f}x faster")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages on the site")
    parser.add_argument("--in-flight", type=int, default=100, help="fetches at once")
    parser.add_argument("--deadline", type=float, default=60.0, help="give up after (s)")
    parser.add_argument("--delay", type=float, default=0.2, help="how slow slow pages are (s)")
    parser.add_argument("--seed", type=int, default=1, help="site generator seed")
    parser.add_argument(
        "--no-sequential", dest="sequential", action="store_false", help="skip the comparison"
    )
    return parser.parse_args()


if __name__ == "__main__":
    goroutines.patch()  # blocking sockets and time.sleep park only their goroutine
    goroutines.run(main, parse_args())
