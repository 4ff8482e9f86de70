"""Seed 004, "Concurrency vs parallelism in Go", section "Using channels for
results", ported to goroutines.

One goroutine per URL sends a line describing its outcome; main receives
exactly one line per URL. The requests are simulated so that the example runs
offline.

Run it with:  python examples/seeds/status_codes.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, SendChan, go
from goroutines import time as gotime

# Simulated responses: URL -> (latency in seconds, status code or None if unreachable).
RESPONSES: dict[str, tuple[float, int | None]] = {
    "https://example.com": (0.03, 200),
    "https://httpbin.org/get": (0.01, 200),
    "https://httpbin.org/status/404": (0.02, 404),
    "https://unreachable.invalid": (0.04, None),
}


def fetch_url(url: str, ch: SendChan[str]) -> None:
    latency, status = RESPONSES[url]
    gotime.sleep(latency)
    if status is None:
        ch.send(f"error: Get {url!r}: no such host")
        return
    ch.send(f"{url} -> {status}")


def main() -> None:
    ch: Chan[str] = Chan()
    for url in RESPONSES:
        go(fetch_url, url, ch.send_only())  # all requests in flight at once

    # One receive per goroutine; results arrive in the order they finish.
    for _ in RESPONSES:
        print(ch.recv())


if __name__ == "__main__":
    goroutines.run(main)
