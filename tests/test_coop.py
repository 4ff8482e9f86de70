"""``goroutines.patch()``: what it replaces, once, and what it leaves alone."""

from __future__ import annotations

import threading

import pytest
from conftest import run_python

import goroutines
from goroutines._coop import select as coop_select
from goroutines._coop import selectors as coop_selectors
from goroutines._coop import socket as coop_socket
from goroutines._coop import ssl as coop_ssl
from goroutines._coop import time as coop_time

MODULES = [coop_socket, coop_ssl, coop_select, coop_selectors, coop_time]


def test_patch_applies_every_listed_replacement_and_is_idempotent() -> None:
    goroutines.patch()
    goroutines.patch()
    for module in MODULES:
        assert module.PATCHES, module.__name__
        for owner, name, replacement in module.PATCHES:
            assert getattr(owner, name) is replacement, (owner, name)


def test_the_names_api_md_promises_are_listed() -> None:
    listed = {
        (getattr(owner, "__name__", ""), name)
        for module in MODULES
        for owner, name, _ in module.PATCHES
    }
    expected = {
        ("socket", "socket"),
        ("socket", "getaddrinfo"),
        ("socket", "gethostbyname"),
        ("SSLContext", "sslsocket_class"),
        ("select", "select"),
        ("selectors", "DefaultSelector"),
        ("time", "sleep"),
    }
    assert expected <= listed


def test_threading_is_not_patched() -> None:
    goroutines.patch()
    assert threading.Lock.__module__ in ("_thread", "threading")
    assert threading.Event.wait.__module__ == "threading"


@pytest.mark.timeout(60)
def test_a_fresh_process_is_unpatched_until_patch_is_called() -> None:
    code = """
import select, selectors, socket, ssl, time

def names():
    return (socket.socket, socket.getaddrinfo, select.select, selectors.DefaultSelector,
            time.sleep, ssl.SSLContext.sslsocket_class)

before = names()
import goroutines
assert names() == before, "importing goroutines patched something"
goroutines.patch()
print(sum(a is not b for a, b in zip(before, names())))
"""
    status, out, err = run_python(code)
    assert status == 0, err
    assert out.strip() == "6"
