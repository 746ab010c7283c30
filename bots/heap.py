"""The objects built at start-up (modules, catalogs, clients, encodings, the platform library's
own tables) live as long as the process, yet CPython's collector walked all of them on every
full collection: a pause of 90-120 ms in the middle of a burst of turns on the benchmark machine
(`python -m bench --telegram`, first turns at 30 chats: first visible text p99 ~100-130 ms with
the pause, ~15-35 ms without). Frozen after start-up, they are left out of every collection;
what turns create is collected as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_startup_heap() -> Iterator[None]:
    """Collect what start-up left behind, then keep the survivors out of later collections
    while the body runs (given back to the collector after: tests run many bots in one
    process)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
