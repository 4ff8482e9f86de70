"""The README's demos run and print what they claim: ``examples/crawl.py`` (the
quick start's first command) and ``examples/pipeline.py``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.timeout(120)
def test_crawl_finds_the_same_site_concurrently_and_sequentially() -> None:
    out = _run("crawl.py", "--pages", "300", "--delay", "0.05", "--in-flight", "20")
    summary = re.compile(
        r"^(concurrent|sequential): (\d+) pages, (\d+) errors, [\d.]+ s, \d+ pages/s, "
        r"peak (\d+) goroutines$",
        re.MULTILINE,
    )
    found = {
        kind: (int(pages), int(errors), int(peak))
        for kind, pages, errors, peak in summary.findall(out)
    }
    assert set(found) == {"concurrent", "sequential"}, out
    concurrent, sequential = found["concurrent"], found["sequential"]
    assert concurrent[:2] == sequential[:2], out  # the same pages, the same failures
    assert concurrent[0] >= 300 and concurrent[1] >= 6, out  # every page; 2% fail, some 404
    assert concurrent[2] > 20, out  # a goroutine per page found, beyond the 20 fetching
    assert "stopped at the deadline" not in out
    assert re.search(r"^goroutines were [\d.]+x faster$", out, re.MULTILINE), out


@pytest.mark.timeout(120)
def test_crawl_stops_at_its_deadline() -> None:
    out = _run("crawl.py", "--pages", "300", "--delay", "5", "--deadline", "1", "--no-sequential")
    assert re.search(
        r"^concurrent: \d+ pages, .*\(stopped at the deadline\)$", out, re.MULTILINE
    ), out


def test_crawl_server_outlives_a_client_that_hangs_up() -> None:
    # At the crawl's deadline its fetches give up and close their connections,
    # maybe while the server's goroutine is answering: the server must drop
    # that connection, not end the program with the write's error.
    program = f"""
import socket, struct, sys, urllib.request
sys.path.insert(0, {str(EXAMPLES)!r})
import crawl
import goroutines
from goroutines import time

def main():
    site = crawl.Site.generate(100, seed=1, delay=0.05)
    base = crawl.serve(site)
    host, port = base.removeprefix("http://").split(":")
    slow = min(site.slow)
    for _ in range(3):
        client = socket.create_connection((host, int(port)))
        client.sendall(f"GET /page/{{slow}} HTTP/1.0\\r\\n\\r\\n".encode())
        # Hang up with a reset at once: the answer, 0.05 s later, finds no one.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        time.sleep(0.2)
    with urllib.request.urlopen(base + "/page/0", timeout=10) as response:
        print(response.status)

goroutines.patch()
goroutines.run(main)
"""
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=30
    )
    assert (result.returncode, result.stdout) == (0, "200\n"), result.stderr


@pytest.mark.timeout(120)
def test_pipeline_demo_runs() -> None:
    out = _run("pipeline.py")
    assert out.strip(), "the pipeline demo printed nothing"
