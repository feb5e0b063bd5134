"""The app's workspace: every negotiation and each of its versions, in one SQLite file.

This module is the only place that knows the storage (no Streamlit, no optimizer imports), so a
server database could replace SQLite behind the same small API:

* ``Workspace(path)`` -- opens (and creates on first use) the database file;
* ``create(name, data, note)`` -> negotiation id; ``save(nid, data, note)`` -> version number
  (a new version only when the data changed); ``load(nid, version=None)`` -> raw data;
* ``negotiations()``, ``versions(nid)``, ``restore(nid, version)``, ``rename`` / ``delete``;
* ``set_last_opened(nid)`` / ``last_opened()`` -- where the user was, for the next start.

Data is the raw scenario (plain dicts, as in a file, invalid entries included) stored as JSON.
Every write is one ``BEGIN IMMEDIATE`` transaction, so two browser tabs or two processes writing
the same negotiation never tear a version (the last write wins). Every failure is a
``WorkspaceError`` whose message says what happened to which file and what to do.

The location: ``$DEALOPT_WORKSPACE``, else ``workspace = "..."`` in the settings file
(``$XDG_CONFIG_HOME/dealopt/settings.toml``), else ``$XDG_DATA_HOME/dealopt/workspace.sqlite``
(``~/.local/share/dealopt/workspace.sqlite``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.errors import WorkspaceError

ENV = "DEALOPT_WORKSPACE"
BUSY_TIMEOUT_S = 5.0
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS negotiations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS versions (
    negotiation_id TEXT NOT NULL REFERENCES negotiations(id),
    number INTEGER NOT NULL,
    created REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,
    PRIMARY KEY (negotiation_id, number)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/dealopt`` (``~/.config/dealopt``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dealopt"


def default_path() -> Path:
    """Where the workspace lives: the environment variable, the settings file, the data folder."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    settings = config_dir() / "settings.toml"
    try:
        with open(settings, "rb") as f:
            configured = tomllib.load(f).get("workspace")
        if isinstance(configured, str) and configured.strip():
            return Path(configured).expanduser()
    except (OSError, tomllib.TOMLDecodeError):
        pass
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dealopt" / "workspace.sqlite"


@dataclass(frozen=True)
class NegotiationInfo:
    """One saved negotiation: id, name, times (seconds since the epoch), number of versions."""

    id: str
    name: str
    created: float
    updated: float
    versions: int


@dataclass(frozen=True)
class VersionInfo:
    """One saved version of a negotiation (its data is read with ``Workspace.load``)."""

    negotiation_id: str
    number: int
    created: float
    note: str


def dumps(data: Any) -> str:
    """Raw data as canonical JSON (numbers as typed; anything else as text, never a failure)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=False, default=str)


def _name_of(data: Any) -> str:
    name = data.get("name") if isinstance(data, dict) else None
    return str(name).strip() if name not in (None, "") else "(unnamed)"


def _explain(path: Path, e: BaseException) -> str:
    text = str(e).lower()
    if "locked" in text or "busy" in text:
        return (
            f"The workspace {path} is locked by another program (waited {BUSY_TIMEOUT_S:g} s). "
            "Your entries stay in this window; saving is retried on the next edit."
        )
    if "readonly" in text or "read-only" in text or "permission" in text:
        return (
            f"The workspace {path} is read-only, so changes cannot be saved there. Your entries "
            "stay in this window; download the scenario to keep it, or make the file writable."
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The workspace {path} is damaged (not a readable database); it was left untouched. "
            "Move it aside (or set DEALOPT_WORKSPACE to another file) and restart; until then "
            "your entries stay in this window only."
        )
    if "unable to open" in text or isinstance(e, OSError):
        return (
            f"The workspace {path} cannot be opened ({e}). Your entries stay in this window; "
            "set DEALOPT_WORKSPACE to a writable file to keep them."
        )
    return f"The workspace {path} failed: {e}. Your entries stay in this window."


class Workspace:
    """The negotiations and their versions in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WorkspaceError(_explain(self.path, e)) from e
        self.read_only: str | None = None  # the reason, when the file can be read but not written
        try:
            with self._write() as con:
                for stmt in filter(str.strip, _SCHEMA.split(";")):
                    con.execute(stmt)
                con.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)",
                    (str(SCHEMA_VERSION),),
                )
        except WorkspaceError as e:
            if "read-only" not in str(e) or not self.path.exists():
                raise
            with self._read() as con:  # a readable workspace still opens, to read
                con.execute("SELECT COUNT(*) FROM negotiations").fetchone()
            self.read_only = str(e)

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.execute("PRAGMA foreign_keys = ON")
            return con
        except sqlite3.Error as e:
            raise WorkspaceError(_explain(self.path, e)) from e

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: writers queue, nobody reads half of one)."""
        if getattr(self, "read_only", None):
            raise WorkspaceError(self.read_only)
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except sqlite3.Error as e:
            raise WorkspaceError(_explain(self.path, e)) from e
        finally:
            con.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            yield con
        except sqlite3.Error as e:
            raise WorkspaceError(_explain(self.path, e)) from e
        finally:
            con.close()

    # -- negotiations ------------------------------------------------------------------------

    def create(self, data: Any, note: str = "created") -> str:
        """A new negotiation whose first version is ``data``; returns its id."""
        nid = uuid.uuid4().hex[:12]
        now = time.time()
        with self._write() as con:
            con.execute(
                "INSERT INTO negotiations(id, name, created, updated) VALUES (?, ?, ?, ?)",
                (nid, _name_of(data), now, now),
            )
            con.execute(
                "INSERT INTO versions(negotiation_id, number, created, note, data) "
                "VALUES (?, 1, ?, ?, ?)",
                (nid, now, note, dumps(data)),
            )
        return nid

    def negotiations(self) -> list[NegotiationInfo]:
        """Every negotiation not deleted, the most recently changed first."""
        with self._read() as con:
            rows = con.execute(
                "SELECT n.id, n.name, n.created, n.updated, COUNT(v.number) FROM negotiations n "
                "LEFT JOIN versions v ON v.negotiation_id = n.id WHERE n.deleted = 0 "
                "GROUP BY n.id ORDER BY n.updated DESC, n.created DESC"
            ).fetchall()
        return [NegotiationInfo(*r) for r in rows]

    def exists(self, nid: str) -> bool:
        """True when ``nid`` names a negotiation that is not deleted."""
        with self._read() as con:
            row = con.execute(
                "SELECT 1 FROM negotiations WHERE id = ? AND deleted = 0", (nid,)
            ).fetchone()
        return row is not None

    def rename(self, nid: str, name: str) -> None:
        """Change the name shown in the list (the scenario's own name is in its data)."""
        with self._write() as con:
            con.execute("UPDATE negotiations SET name = ? WHERE id = ?", (name, nid))

    def delete(self, nid: str) -> None:
        """Hide a negotiation from the list (its versions are kept in the file)."""
        with self._write() as con:
            con.execute("UPDATE negotiations SET deleted = 1 WHERE id = ?", (nid,))

    # -- versions ----------------------------------------------------------------------------

    def save(self, nid: str, data: Any, note: str = "edit") -> int:
        """Store ``data`` as the next version (unless it equals the latest); its number."""
        text = dumps(data)
        now = time.time()
        with self._write() as con:
            row = con.execute(
                "SELECT number, data FROM versions WHERE negotiation_id = ? "
                "ORDER BY number DESC LIMIT 1",
                (nid,),
            ).fetchone()
            if row is None:
                raise WorkspaceError(f"no negotiation {nid!r} in the workspace {self.path}")
            if row[1] == text:
                return int(row[0])
            number = int(row[0]) + 1
            con.execute(
                "INSERT INTO versions(negotiation_id, number, created, note, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (nid, number, now, note, text),
            )
            con.execute(
                "UPDATE negotiations SET name = ?, updated = ?, deleted = 0 WHERE id = ?",
                (_name_of(data), now, nid),
            )
        return number

    def versions(self, nid: str) -> list[VersionInfo]:
        """The negotiation's versions, the newest first."""
        with self._read() as con:
            rows = con.execute(
                "SELECT negotiation_id, number, created, note FROM versions "
                "WHERE negotiation_id = ? ORDER BY number DESC",
                (nid,),
            ).fetchall()
        return [VersionInfo(*r) for r in rows]

    def latest(self, nid: str) -> int:
        """The newest version number (0 when the negotiation does not exist)."""
        with self._read() as con:
            row = con.execute(
                "SELECT MAX(number) FROM versions WHERE negotiation_id = ?", (nid,)
            ).fetchone()
        return int(row[0] or 0)

    def load(self, nid: str, version: int | None = None) -> Any:
        """The raw data of a version (the newest when ``version`` is None)."""
        with self._read() as con:
            if version is None:
                row = con.execute(
                    "SELECT data FROM versions WHERE negotiation_id = ? "
                    "ORDER BY number DESC LIMIT 1",
                    (nid,),
                ).fetchone()
            else:
                row = con.execute(
                    "SELECT data FROM versions WHERE negotiation_id = ? AND number = ?",
                    (nid, int(version)),
                ).fetchone()
        if row is None:
            what = "its newest version" if version is None else f"version {version}"
            raise WorkspaceError(f"negotiation {nid!r}: {what} is not in the workspace")
        try:
            return json.loads(row[0])
        except json.JSONDecodeError as e:
            raise WorkspaceError(
                f"negotiation {nid!r} version {version}: stored data is damaged ({e})"
            ) from e

    def restore(self, nid: str, version: int) -> int:
        """Make an earlier version current again, as a new version (history is never cut)."""
        data = self.load(nid, version)
        return self.save(nid, data, note=f"restored version {version}")

    # -- where the user was ------------------------------------------------------------------

    def set_last_opened(self, nid: str) -> None:
        """Remember the negotiation open now, for the next start."""
        with self._write() as con:
            con.execute(
                "INSERT INTO meta(key, value) VALUES ('last_opened', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (nid,),
            )

    def last_opened(self) -> str | None:
        """The negotiation open last (None when none or deleted since)."""
        with self._read() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'last_opened'").fetchone()
        if row is None or not self.exists(row[0]):
            return None
        return str(row[0])
