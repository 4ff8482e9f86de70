"""goroutines: Go's concurrency model for Python.

Goroutines are plain functions run by ``go(fn, *args)`` on an M:N scheduler;
they talk over channels (``Chan``) and wait on several at once with
``select``. See the README for a tour and ``goroutines.time``,
``goroutines.runtime`` for timers and the runtime's controls.
"""

from __future__ import annotations

from . import _race  # noqa: F401  (registers the race detector with the runtime)
from . import atomic as atomic
from . import context as context
from . import errgroup as errgroup
from . import runtime as runtime
from . import semaphore as semaphore
from . import sync as sync
from . import testing as testing
from . import time as time
from ._chan import Chan as Chan
from ._chan import ClosedChannelError as ClosedChannelError
from ._chan import RecvChan as RecvChan
from ._chan import SendChan as SendChan
from ._chan import nilchan as nilchan
from ._coop import patch as patch
from ._runtime import DeadlockError as DeadlockError
from ._runtime import blocking as blocking
from ._runtime import go as go
from ._runtime import run as run
from ._select import default as default
from ._select import select as select

__all__ = [
    "Chan",
    "ClosedChannelError",
    "DeadlockError",
    "RecvChan",
    "SendChan",
    "atomic",
    "blocking",
    "context",
    "default",
    "errgroup",
    "go",
    "nilchan",
    "patch",
    "run",
    "runtime",
    "select",
    "semaphore",
    "sync",
    "testing",
    "time",
]

for _obj in (
    Chan,
    ClosedChannelError,
    DeadlockError,
    RecvChan,
    SendChan,
    blocking,
    go,
    patch,
    run,
    select,
):
    _obj.__module__ = __name__
del _obj
