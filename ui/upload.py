"""Uploaded scenario files, read within bounds so that one upload never stalls the server.

The pure-Python YAML loader needs hundreds of MB and many seconds for a file of a few MB, while
holding the interpreter lock: every other session of the app would wait (issue 15). So an upload

* is refused above ``MAX_UPLOAD_BYTES`` (a real scenario is a few kB; the command line reads
  larger files), and
* is parsed in a separate worker process with a memory limit (``PARSE_MEMORY_BYTES``, as its
  address-space limit) and a time limit (``PARSE_SECONDS``); past either it is stopped and the
  user gets a message instead of a frozen app.

``parse_upload(raw, filename) -> (data, None) | (None, message)``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
from typing import Any

from optimizer.errors import ScenarioFileError
from optimizer.scenario.files import parse_text

#: Largest upload the app parses (bytes).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

#: The worker's limits: seconds of wall time, bytes of address space beyond what it starts with.
PARSE_SECONDS = 20.0
PARSE_MEMORY_BYTES = 1024 * 1024 * 1024


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"


def _address_space() -> int:
    """This process's current virtual size in bytes (0 when unknown)."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _worker(conn: Any, text: str, fmt: str, source: str, memory: int) -> None:
    """In the worker process: cap memory, parse, send back ("ok", data) or ("error", message)."""
    try:  # a forked child starts as large as the server: the cap is on what it adds
        limit = _address_space() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # a platform without the limit still has the time limit
        pass
    try:
        conn.send(("ok", parse_text(text, fmt=fmt, source=source)))
    except ScenarioFileError as e:
        conn.send(("error", str(e)))
    except MemoryError:
        conn.send(("memory", ""))
    except Exception as e:  # noqa: BLE001 - reported as a message, never a traceback
        conn.send(("error", f"{source}: could not be read ({type(e).__name__}: {e})"))
    finally:
        conn.close()


def parse_upload(
    raw: bytes,
    filename: str,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    seconds: float = PARSE_SECONDS,
    memory: int = PARSE_MEMORY_BYTES,
) -> tuple[Any, str | None]:
    """Uploaded bytes as plain scenario data, or (None, a message saying what went wrong)."""
    if len(raw) > max_bytes:
        return None, (
            f"{filename}: the file is {_size(len(raw))}, more than the {_size(max_bytes)} the app "
            "reads (a scenario is usually a few kB); check it is the right file, or use the "
            "command line (dealopt validate / improve), which reads up to 20 MB"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, f"{filename}: not UTF-8 text; save it as UTF-8 and upload again"
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    fmt = "json" if suffix == "json" else "yaml" if suffix in ("yaml", "yml") else "auto"
    # fork: the parser is already imported, and nothing re-runs the app's main script (spawn and
    # forkserver would re-import Streamlit's); the child only parses, then exits
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_worker, args=(child, text, fmt, filename, memory), daemon=True, name="upload"
    )
    proc.start()
    child.close()
    try:
        ready = parent.poll(seconds)
        kind, value = parent.recv() if ready else ("time", None)
    except EOFError:  # the worker died before answering (out of memory, as a rule)
        kind, value = "memory", None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if kind == "memory" and proc.exitcode not in (None, 0) and proc.exitcode > 0:
        kind, value = "error", f"{filename}: could not be read (the reader stopped unexpectedly)"
    if kind == "ok":
        return value, None
    if kind == "time":
        return None, (
            f"{filename}: reading the file took longer than {seconds:g} s and was stopped; "
            "a scenario file this slow to read is far larger than a negotiation needs"
        )
    if kind == "memory":
        return None, (
            f"{filename}: reading the file needed more than {_size(memory)} of memory and was "
            "stopped; check it is the right file"
        )
    return None, value
