"""Engine calls in worker processes, so a page is drawn at once and heavy results follow.

The app's pages ask ``ui.state`` for engine results; a result not ready within the run's short
budget is computed here, in a pool of worker processes (separate processes: the page's own
thread keeps the interpreter to itself and stays fast), and the page shows a spinner until it
arrives. Results are kept per (function, scenario, arguments) in the server process, so every
session, page and later visit reuses them. No Streamlit here: the workers import only the library.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

WORKERS_ENV = "DEALOPT_UI_WORKERS"
MAX_RESULTS = 512


def run(module: str, function: str, scenario_json: str, kwargs_json: str) -> tuple[str, Any, float]:
    """In a worker: ``module.function(scenario, **kwargs)``; ("ok", value, s) or ("error", text, s)."""
    from optimizer.errors import DealoptError
    from optimizer.scenario.models import Scenario

    t0 = time.perf_counter()
    try:
        scenario = Scenario.model_validate_json(scenario_json)
        fn = getattr(importlib.import_module(module), function)
        value = fn(scenario, **json.loads(kwargs_json))
    except DealoptError as e:
        return "error", str(e), time.perf_counter() - t0
    except Exception as e:  # noqa: BLE001 - reported as a message, never a traceback
        return "error", f"{type(e).__name__}: {e}", time.perf_counter() - t0
    return "ok", value, time.perf_counter() - t0


def _warm() -> bool:
    """Import the library in a fresh worker (so the first real call does not pay for it)."""
    import optimizer.searches.improve  # noqa: F401
    import optimizer.searches.uncertainty  # noqa: F401

    return True


@contextmanager
def _plain_main() -> Iterator[None]:
    """Start workers without the app's script: under ``streamlit run`` the running page is the
    ``__main__`` module, and a spawned worker would run it again; it gets an empty one."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class Jobs:
    """The pool and the results it produced (thread-safe; one per server process)."""

    def __init__(self, workers: int | None = None) -> None:
        n = workers or int(os.environ.get(WORKERS_ENV) or 2)
        self._pool = ProcessPoolExecutor(
            max_workers=max(1, n), mp_context=multiprocessing.get_context("spawn")
        )
        self._lock = threading.Lock()
        self._results: OrderedDict[tuple, Any] = OrderedDict()
        self._pending: dict[tuple, Future] = {}
        self._ahead: set[tuple] = set()  # keys started by ``ahead`` (cancellable)
        with _plain_main():
            for _ in range(max(1, n)):
                self._pool.submit(_warm)

    def result(self, key: tuple) -> Any | None:
        """The stored result for ``key`` (None when not computed yet)."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        return None

    def store(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._results[key] = value
            self._results.move_to_end(key)
            while len(self._results) > MAX_RESULTS:
                self._results.popitem(last=False)

    def submit(
        self, key: tuple, args: tuple, wrap: Callable[[tuple[str, Any, float]], Any]
    ) -> Future:
        """Start ``run(*args)`` unless it is already running; ``wrap`` turns its answer into
        the stored result."""
        with self._lock:
            fut = self._pending.get(key)
            if fut is not None:
                return fut
            with _plain_main():  # a worker may be started (again) here
                fut = self._pool.submit(run, *args)
            self._pending[key] = fut

        def done(f: Future) -> None:
            if f.cancelled():
                with self._lock:
                    self._pending.pop(key, None)
                return
            try:
                answer = f.result()
            except Exception as e:  # noqa: BLE001 - a crashed worker is a message too
                answer = ("error", f"the computation stopped ({type(e).__name__}: {e})", 0.0)
            self.store(key, wrap(answer))
            with self._lock:
                self._pending.pop(key, None)

        fut.add_done_callback(done)
        return fut

    def ahead(
        self, calls: list[tuple[tuple, tuple]], wrap: Callable[[tuple[str, Any, float]], Any]
    ) -> None:
        """Compute ``calls`` ((key, args) pairs) ahead of a visit; earlier ahead-of-time calls
        for other keys that have not started yet are dropped (the scenario moved on)."""
        wanted = {key for key, _ in calls}
        with self._lock:
            stale = [(k, self._pending.get(k)) for k in self._ahead - wanted]
            self._ahead = wanted
        for _k, fut in stale:
            if fut is not None:
                fut.cancel()
        for key, args in calls:
            if self.result(key) is None:
                self.submit(key, args, wrap)

    def pending(self, key: tuple) -> bool:
        with self._lock:
            return key in self._pending
