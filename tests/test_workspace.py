"""The app's workspace store (ui/workspace.py): versions, restore, where the user was, two
processes writing at once, and a locked, read-only or damaged database file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from optimizer.errors import WorkspaceError  # noqa: E402
from ui.workspace import Workspace, default_path  # noqa: E402


def _data(name: str = "Deal", price: float = 50) -> dict:
    return {"name": name, "issues": [{"name": "price", "min": 40, "max": 60, "value": price}]}


def test_default_location_follows_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DEALOPT_WORKSPACE", str(tmp_path / "w.sqlite"))
    assert default_path() == tmp_path / "w.sqlite"
    monkeypatch.delenv("DEALOPT_WORKSPACE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "dealopt" / "workspace.sqlite"
    (tmp_path / "cfg" / "dealopt").mkdir(parents=True)
    (tmp_path / "cfg" / "dealopt" / "settings.toml").write_text('workspace = "/x/y.sqlite"\n')
    assert default_path() == Path("/x/y.sqlite")


def test_created_on_first_use_and_versions(tmp_path) -> None:
    path = tmp_path / "sub" / "w.sqlite"
    ws = Workspace(path)
    assert path.exists() and ws.negotiations() == []
    nid = ws.create(_data(), note="from example")
    assert ws.save(nid, _data(price=52)) == 2
    assert ws.save(nid, _data(price=52)) == 2  # unchanged data: no new version
    assert ws.save(nid, _data(name="Renamed", price=55), note="typed") == 3
    vs = ws.versions(nid)
    assert [v.number for v in vs] == [3, 2, 1]
    assert [v.note for v in vs] == ["typed", "edit", "from example"]
    assert ws.load(nid)["issues"][0]["value"] == 55
    assert ws.load(nid, 1) == _data()
    [info] = ws.negotiations()
    assert (info.id, info.name, info.versions) == (nid, "Renamed", 3)
    # A new Workspace on the same file sees everything (the app restarted).
    again = Workspace(path)
    assert again.load(nid, 2)["issues"][0]["value"] == 52


def test_restore_adds_a_version_and_keeps_history(tmp_path) -> None:
    ws = Workspace(tmp_path / "w.sqlite")
    nid = ws.create(_data(price=50))
    ws.save(nid, _data(price=60))
    assert ws.restore(nid, 1) == 3
    assert ws.load(nid)["issues"][0]["value"] == 50
    assert ws.versions(nid)[0].note == "restored version 1"
    assert ws.load(nid, 2)["issues"][0]["value"] == 60
    with pytest.raises(WorkspaceError, match="version 9"):
        ws.load(nid, 9)


def test_negotiations_listed_newest_first_and_last_opened(tmp_path) -> None:
    ws = Workspace(tmp_path / "w.sqlite")
    a = ws.create(_data("A"))
    b = ws.create(_data("B"))
    ws.save(a, _data("A", 51))
    assert [n.name for n in ws.negotiations()] == ["A", "B"]
    assert ws.last_opened() is None
    ws.set_last_opened(b)
    assert Workspace(tmp_path / "w.sqlite").last_opened() == b
    ws.delete(b)
    assert ws.last_opened() is None and [n.name for n in ws.negotiations()] == ["A"]


WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from ui.workspace import Workspace
ws = Workspace(sys.argv[2])
for k in range(int(sys.argv[5])):
    ws.save(sys.argv[3], {"name": "writer " + sys.argv[4], "k": k, "pad": "x" * 5000})
"""


def test_two_processes_writing_never_tear_a_version(tmp_path) -> None:
    path = str(tmp_path / "w.sqlite")
    ws = Workspace(path)
    nid = ws.create({"name": "start"})
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT), path, nid, str(who), "40"])
        for who in (1, 2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    vs = ws.versions(nid)
    numbers = sorted(v.number for v in vs)
    assert numbers == list(range(1, len(numbers) + 1))  # no gap, no duplicate
    assert len(numbers) == 81  # every write is its own version
    for v in vs[:-1]:
        d = ws.load(nid, v.number)  # every version parses whole
        assert d["pad"] == "x" * 5000 and d["name"] in ("writer 1", "writer 2")


def test_locked_database_gives_a_clear_message_and_keeps_data(tmp_path, monkeypatch) -> None:
    import ui.workspace as w

    monkeypatch.setattr(w, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "w.sqlite"
    ws = Workspace(path)
    nid = ws.create(_data(price=50))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(WorkspaceError, match="locked by another program"):
            ws.save(nid, _data(price=51))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert ws.load(nid)["issues"][0]["value"] == 50  # nothing half-written
    assert ws.save(nid, _data(price=51)) == 2  # and saving works again once free


def test_a_lock_released_within_the_wait_is_waited_for(tmp_path) -> None:
    path = tmp_path / "w.sqlite"
    ws = Workspace(path)
    nid = ws.create(_data())
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")
    t = threading.Timer(0.5, lambda: (blocker.execute("ROLLBACK"), blocker.close()))
    t.start()
    assert ws.save(nid, _data(price=58)) == 2
    t.join()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
def test_read_only_database_opens_to_read(tmp_path) -> None:
    path = tmp_path / "w.sqlite"
    ws = Workspace(path)
    nid = ws.create(_data(price=50))
    path.chmod(0o444)
    try:
        ro = Workspace(path)
        assert ro.read_only and "read-only" in ro.read_only
        assert ro.load(nid)["issues"][0]["value"] == 50
        with pytest.raises(WorkspaceError, match="read-only"):
            ro.save(nid, _data(price=51))
    finally:
        path.chmod(0o644)


def test_read_only_database_via_immutable_flag(tmp_path, monkeypatch) -> None:
    """As root (CI containers) file modes do not stop writes: simulate SQLite's own refusal."""
    path = tmp_path / "w.sqlite"
    ws = Workspace(path)
    nid = ws.create(_data(price=50))
    import ui.workspace as w

    real = sqlite3.connect

    def ro_connect(p, *a, **k):
        return real(f"file:{p}?mode=ro", *a, uri=True, **k)

    monkeypatch.setattr(w.sqlite3, "connect", ro_connect)
    ro = Workspace(path)
    assert ro.read_only and "read-only" in ro.read_only
    assert ro.load(nid)["issues"][0]["value"] == 50
    assert [n.id for n in ro.negotiations()] == [nid]
    with pytest.raises(WorkspaceError, match="download the scenario"):
        ro.create(_data())


def test_corrupt_database_is_reported_and_left_untouched(tmp_path) -> None:
    path = tmp_path / "w.sqlite"
    junk = b"this is not a database\n" * 100
    path.write_bytes(junk)
    with pytest.raises(WorkspaceError, match="damaged") as info:
        Workspace(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == junk


def test_unwritable_folder_is_reported(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkspaceError, match="cannot be opened"):
        Workspace(blocker / "sub" / "w.sqlite")
