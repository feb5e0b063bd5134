"""Issue 15 (data loss, reading, smaller, documents): saves are atomic and exclusive, in-place
updates are serialised and keep comments, readers refuse what is not a regular file and read a
bounded amount, and documents survive hostile names. The save and race tests use real processes."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import docx
import pypdf
import pytest
import yaml
from test_explain import deal_data

import optimizer.reports.proposal as proposal
import optimizer.scenario.files as files
from optimizer import Scenario
from optimizer.errors import OutputExistsError, SaveError, ScenarioFileError
from optimizer.scenario.files import (
    _round_trip,
    file_lock,
    loads_scenario,
    parse_text,
    read_bytes,
    save_bytes,
    scenario_from_data,
)

ROOT = Path(__file__).resolve().parents[1]
SAAS = ROOT / "examples" / "saas_renewal.yaml"
YAML_EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix == ".yaml")


def cli(
    *args: str, limit_bytes: int | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """``python -m optimizer ARGS`` in a real process (optionally with a file-size limit)."""

    def limit() -> None:  # runs in the child: a disk that fills up after ``limit_bytes``
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-m", "optimizer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        preexec_fn=limit,
    )


def leftovers(folder: Path) -> list[str]:
    """Temporary files a save left behind (lock files are meant to stay)."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --------------------------------------------------------------------------------------------
# Atomic, exclusive saves
# --------------------------------------------------------------------------------------------


def test_disk_full_leaves_the_scenario_intact(tmp_path: Path) -> None:
    target = tmp_path / "deal.yaml"
    shutil.copy(SAAS, target)
    before = target.read_bytes()
    assert len(before) > 3000
    r = cli(
        "log",
        str(target),
        "--add",
        "CloudDesk",
        "--set",
        "price per seat=50",
        "--in-place",
        limit_bytes=2000,
    )
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert f"{target}: cannot be written (File too large); the existing file was left" in r.stderr
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []
    # without the limit the same command works
    r = cli("log", str(target), "--add", "CloudDesk", "--set", "price per seat=50", "--in-place")
    assert r.returncode == 0, r.stderr
    assert len(Scenario.load(target).history) == 1


def test_failed_document_write_leaves_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "p.pdf"
    r = cli("proposal", str(SAAS), "-o", str(out), limit_bytes=3000)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "cannot be written (File too large); nothing written" in r.stderr
    assert not out.exists() and leftovers(tmp_path) == []
    r = cli("proposal", str(SAAS), "-o", str(out))  # a rerun is not blocked by "exists"
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_save_bytes_never_replaces_without_overwrite(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    assert save_bytes(p, b"one") == p
    with pytest.raises(OutputExistsError, match="f.txt exists; pass overwrite=True"):
        save_bytes(p, b"two")
    assert p.read_bytes() == b"one"
    p.chmod(0o640)
    save_bytes(p, b"three", overwrite=True)
    assert p.read_bytes() == b"three"
    assert p.stat().st_mode & 0o777 == 0o640  # replacing keeps the file's permissions
    with pytest.raises(SaveError, match="is a directory"):
        save_bytes(tmp_path, b"x")
    with pytest.raises(SaveError, match="does not exist"):
        save_bytes(tmp_path / "nope" / "f.txt", b"x")
    assert leftovers(tmp_path) == []


def test_save_bytes_race_has_one_winner(tmp_path: Path) -> None:
    """Threads released together: exactly one creates the file; it holds the winner's bytes."""
    p = tmp_path / "race.bin"
    n = 8
    barrier = threading.Barrier(n)
    results: list[tuple[int, str]] = []

    def writer(k: int) -> None:
        barrier.wait()
        try:
            save_bytes(p, f"writer {k}".encode() * 1000)
            results.append((k, "wrote"))
        except OutputExistsError:
            results.append((k, "exists"))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for k, r in results if r == "wrote"]
    assert len(results) == n and len(winners) == 1
    assert p.read_bytes() == f"writer {winners[0]}".encode() * 1000
    assert leftovers(tmp_path) == []


def test_two_proposals_to_one_file_one_wins(tmp_path: Path) -> None:
    out = tmp_path / "same.pdf"
    cmd = [sys.executable, "-m", "optimizer", "proposal", str(SAAS), "-o", str(out)]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    done = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in done)
    assert codes == [0, 1], done
    loser = next(err for code, _, err in done if code == 1)
    assert "same.pdf exists; pass --force to replace it" in loser and "Traceback" not in loser
    assert out.read_bytes().startswith(b"%PDF") and leftovers(tmp_path) == []


def test_concurrent_in_place_logs_lose_no_offer(tmp_path: Path) -> None:
    target = tmp_path / "deal.yaml"
    shutil.copy(SAAS, target)
    n = 10
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "optimizer",
                "log",
                str(target),
                "--add",
                "CloudDesk",
                "--set",
                f"price per seat={41 + k}",
                "--note",
                f"offer {k}",
                "--in-place",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(n)
    ]
    done = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert all(code == 0 for code, _ in done), done
    s = Scenario.load(target)
    assert sorted(o.note for o in s.history) == sorted(f"offer {k}" for k in range(n))
    assert sorted(o.package["price per seat"] for o in s.history) == [41 + k for k in range(n)]
    assert leftovers(tmp_path) == []


def test_file_lock_serialises_updates(tmp_path: Path) -> None:
    """Read-modify-write under the lock from many threads: every increment counts."""
    p = tmp_path / "count.txt"
    save_bytes(p, b"0")

    def bump() -> None:
        for _ in range(20):
            with file_lock(p):
                value = int(p.read_bytes())
                save_bytes(p, str(value + 1).encode(), overwrite=True)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(p.read_bytes()) == 80


# --------------------------------------------------------------------------------------------
# Comments survive an in-place edit
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", YAML_EXAMPLES, ids=lambda p: p.name)
def test_round_trip_reproduces_every_example(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    assert _round_trip(text, lambda doc: None) == text


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(line == other for other in it) for line in small)


def test_in_place_log_keeps_comments_and_layout(tmp_path: Path) -> None:
    target = tmp_path / "deal.yaml"
    text = SAAS.read_text(encoding="utf-8") + "# closing remark\n"
    target.write_text(text, encoding="utf-8")
    r = cli(
        "log",
        str(target),
        "--add",
        "CloudDesk",
        "--set",
        "price per seat=50",
        "--date",
        "2026-03-02",
        "--note",
        "first # not a comment",
        "--in-place",
    )
    assert r.returncode == 0, r.stderr
    assert "could not be kept" not in r.stderr
    after = target.read_text(encoding="utf-8")
    # every original line is still there, in order: the edit only added the offer
    assert _is_subsequence(text.splitlines(), after.splitlines())
    s = Scenario.load(target)
    assert len(s.history) == 1 and s.history[0].note == "first # not a comment"
    assert s.history[0].package == {"price per seat": 50}
    # a status change edits the issue and still keeps every comment
    r = cli(
        "log",
        str(target),
        "--add",
        "Northwind Ops",
        "--set",
        "support tier=premium",
        "--status",
        "support tier=agreed",
        "--in-place",
    )
    assert r.returncode == 0, r.stderr
    again = target.read_text(encoding="utf-8")
    comments = [ln for ln in text.splitlines() if ln.lstrip().startswith("#")]
    assert _is_subsequence(comments, again.splitlines())
    s = Scenario.load(target)
    assert s.issue("support tier").status == "agreed" and s.issue("support tier").value == "premium"


def test_json_in_place_log_still_works(tmp_path: Path) -> None:
    target = tmp_path / "house.json"
    shutil.copy(ROOT / "examples" / "house_purchase.json", target)
    s0 = Scenario.load(target)
    party = s0.party_names[1]
    r = cli("log", str(target), "--add", party, "--in-place")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(target.read_text())["history"]) == len(s0.history) + 1


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for args in (["validate", str(fifo)], ["improve", str(fifo)]):
        r = cli(*args, timeout=60)  # a hang would be a TimeoutExpired here
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert f"{fifo}: is a named pipe (FIFO), not a scenario file (a regular file)" in r.stderr
    r = cli("import-genius", str(fifo), str(fifo), str(fifo), timeout=60)
    assert r.returncode == 1 and "named pipe (FIFO)" in r.stderr


def test_devices_are_refused() -> None:
    with pytest.raises(ScenarioFileError, match="/dev/zero: is a device, not a scenario file"):
        read_bytes(Path("/dev/zero"), "a scenario file")
    r = cli("validate", "/dev/zero", timeout=60)
    assert r.returncode == 1 and "is a device" in r.stderr and "Traceback" not in r.stderr


def test_reads_at_most_the_limit_whatever_the_reported_size(monkeypatch) -> None:
    status = Path("/proc/self/status")  # a regular file that reports size 0
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("needs Linux /proc")
    monkeypatch.setattr(files, "MAX_BYTES", 100)
    with pytest.raises(ScenarioFileError, match=r"too large \(more than 100 bytes; limit 20 MB\)"):
        read_bytes(status, "a scenario file")


def test_yaml_is_parsed_by_libyaml_with_the_same_protections() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    assert files._CStrictLoader is not None
    cases = {
        "a: &x [1]\nb: *x\n": "line 2, column 4: YAML aliases (*name) are not allowed",
        "a: 1\nb:\n  <<: {c: 1}\n": "line 3, column 3: YAML merge keys (<<) are not allowed",
        "a: 1\na: 2\n": "line 2, column 1: duplicate key 'a'",
        "a: !!python/object/apply:os.system [ls]\n": "YAML tags (!!python/..., !custom)",
        "a: " + "[" * 2000 + "]" * 2000 + "\n": "nesting is too deep (more than 64 levels)",
    }
    for text, message in cases.items():
        with pytest.raises(ScenarioFileError) as e:
            parse_text(text, fmt="yaml")
        assert message in str(e.value), (text[:30], str(e.value))
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + k)}: &{chr(98 + k)} [" + ", ".join([f"*{chr(97 + k)}"] * 9) + "]\n"
        for k in range(8)
    )
    with pytest.raises(ScenarioFileError, match="line 2, column 8: YAML aliases"):
        parse_text(lol, fmt="yaml")
    data = parse_text("opts: [yes, 2.50, 2025-01-06, 007]\n", fmt="yaml")
    assert data == {"opts": ["yes", 2.5, "2025-01-06", 7]}


def _many_options(n: int) -> dict:
    opts = [f"o{k}" for k in range(n)]
    return {
        "name": "many",
        "parties": [
            {
                "name": p,
                "preferences": {
                    "weights": {"x": 1},
                    "values": {"x": {o: (k * m) % 100 for k, o in enumerate(opts)}},
                },
            }
            for p, m in (("A", 1), ("B", 7))
        ],
        "issues": [{"name": "x", "options": opts}],
        "constraints": [{"type": "acceptable", "issue": "x", "options": opts[: n // 2]}],
    }


def test_validation_is_linear_in_options(tmp_path: Path) -> None:
    """60,000 scored options (twice per party) validate well within a minute (the quadratic
    check took about 2 minutes for this size; now a few seconds)."""
    p = tmp_path / "many.yaml"
    p.write_text(yaml.safe_dump(_many_options(60_000), width=1000), encoding="utf-8")
    r = cli("validate", str(p), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "valid: 1 issue, 2 parties" in r.stdout


# --------------------------------------------------------------------------------------------
# Smaller: duplicates, Unicode forms, blank names, -o and --format
# --------------------------------------------------------------------------------------------


def test_json_duplicate_keys_are_refused_with_a_location(tmp_path: Path) -> None:
    p = tmp_path / "dup.json"
    p.write_text('{"name": "a",\n "parties": [{"name": "A", "name": "B"}]}\n', encoding="utf-8")
    r = cli("validate", str(p))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{p}: not valid JSON: duplicate key 'name' at line 2, column 28" in r.stderr
    with pytest.raises(ScenarioFileError, match=r"duplicate key 'a' at line 1, column 24"):
        parse_text('{"a": {"a": 1, "b": 2, "a": 3}}', fmt="json")
    # the same key in different objects is fine
    assert parse_text('{"a": {"k": 1}, "b": {"k": 2}}', fmt="json") == {
        "a": {"k": 1},
        "b": {"k": 2},
    }


def test_names_are_normalised_to_nfc() -> None:
    data = deal_data()
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    data["issues"].append({"name": composed, "options": ["a", "b"]})
    data["issues"].append({"name": decomposed, "options": ["a", "b"]})
    with pytest.raises(Exception) as e:
        scenario_from_data(data)
    assert "the name 'café' is used by 2 issues; names must be unique" in str(e.value)
    one = deal_data()
    one["issues"].append({"name": decomposed, "options": ["a", "b"]})
    for p in one["parties"]:
        p["preferences"]["weights"][composed] = 1
        p["preferences"]["values"][composed] = {"a": 0, "b": 100}
    s = scenario_from_data(one)  # the two forms are one issue: no "unknown issue"
    assert s.issue_names[-1] == composed


def test_blank_names_are_refused(tmp_path: Path) -> None:
    data = deal_data()
    data["issues"][1]["options"][0] = "   "
    data["parties"][1]["name"] = " \t"
    p = tmp_path / "blank.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    r = cli("validate", str(p))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "name: a name cannot be blank (only spaces)" in r.stderr
    assert 'issue "delivery" > option 1: a name cannot be blank (only spaces)' in r.stderr


def test_output_into_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    for args in (
        ["proposal", str(SAAS), "-o", str(tmp_path)],
        ["proposal", str(SAAS), "--format", "md", "-o", str(tmp_path)],
        ["log", str(SAAS), "--add", "CloudDesk", "-o", str(tmp_path)],
        ["schema", "-o", str(tmp_path)],
    ):
        r = cli(*args)
        assert r.returncode in (1, 2), (args, r.stderr)
        assert "Traceback" not in r.stderr and "IsADirectoryError" not in r.stderr
        assert "directory" in r.stderr, (args, r.stderr)


def test_format_and_extension_must_agree(tmp_path: Path) -> None:
    r = cli("proposal", str(SAAS), "--format", "docx", "-o", str(tmp_path / "x.pdf"))
    assert r.returncode == 2 and "--format docx does not match -o" in r.stderr
    assert not (tmp_path / "x.pdf").exists()
    r = cli("proposal", str(SAAS), "-o", str(tmp_path / "x.docx"))  # format from the name
    assert r.returncode == 0, r.stderr
    assert zipfile.is_zipfile(tmp_path / "x.docx")
    doc = proposal.proposal_document(loads_scenario(SAAS.read_text(encoding="utf-8")))
    with pytest.raises(Exception, match="the name says pdf but the format asked for is md"):
        proposal.write_proposal(doc, tmp_path / "y.pdf", "md")


# --------------------------------------------------------------------------------------------
# Documents with hostile names
# --------------------------------------------------------------------------------------------


def _hostile(option: str = "2 weeks", us: str = "Us", name: str = "Deal") -> Scenario:
    data = deal_data()
    data["name"] = name
    old_us = data["us"]
    data["us"] = us
    data["parties"][0]["name"] = us
    for c in data.get("constraints", []):
        if c.get("party") == old_us:
            c["party"] = us
    issue = data["issues"][1]
    old = issue["options"]
    new = [option, *old[1:]]
    issue["options"] = new
    if issue.get("value") == old[0]:
        issue["value"] = option
    for p in data["parties"]:
        scores = p["preferences"]["values"]["delivery"]
        p["preferences"]["values"]["delivery"] = dict(zip(new, scores.values(), strict=True))
    return Scenario.from_dict(data)


def _docx_text(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def _pdf_text(data: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(data)).pages
    return "\n".join(p.extract_text() or "" for p in pages).replace("\x00", "")


@pytest.mark.parametrize("audience", ["counterpart", "internal"])
def test_control_characters_and_long_titles_in_word(audience: str) -> None:
    s = _hostile(us="Acme\x00\x07 Corp\x1b", name="N" * 300 + "\x0b end")
    doc = proposal.proposal_document(s, audience=audience)
    text = _docx_text(doc.to_docx())
    assert "Acme Corp" in text and "\x00" not in text
    d = docx.Document(io.BytesIO(doc.to_docx()))
    assert len(d.core_properties.title) == 255 and d.core_properties.title.endswith("\u2026")
    assert "N" * 300 + "  end" in text  # the vertical tab became a space
    pdf = _pdf_text(doc.to_pdf())
    assert "Acme Corp" in pdf


@pytest.mark.parametrize("audience", ["counterpart", "internal"])
@pytest.mark.parametrize("example", ["leather_reorder.yaml", "solar_bid.yaml"])
def test_long_unbroken_option_names_fit_the_pdf(example: str, audience: str) -> None:
    """A 200-character option name made fpdf2 fail ("not enough horizontal space")."""
    data = files.read_data(ROOT / "examples" / example)
    issue = next(i for i in data["issues"] if i.get("options"))
    rename = {o: f"{k}{'W' * 200}" for k, o in enumerate(issue["options"])}
    issue["options"] = [rename[o] for o in issue["options"]]
    if issue.get("value") in rename:
        issue["value"] = rename[issue["value"]]
    for p in data["parties"]:
        v = p["preferences"]["values"].get(issue["name"])
        if isinstance(v, dict):
            p["preferences"]["values"][issue["name"]] = {rename.get(k, k): x for k, x in v.items()}
    s = scenario_from_data(data)
    doc = proposal.proposal_document(s, audience=audience)
    text = _pdf_text(doc.to_pdf())
    ws = sum(line.count("W") for line in text.splitlines())
    in_doc = sum(x.count("W") for x in doc.plain_text().splitlines() if "WWW" in x)
    assert ws >= in_doc > 0  # every W of the names printed (wrapped, nothing lost)


def test_cjk_and_emoji_print_in_the_pdf() -> None:
    if proposal.find_unicode_font() is None:
        pytest.skip("no Unicode TrueType font on this machine")
    fallbacks = [p for p, _ in proposal.find_fallback_fonts()]
    if not any("CJK" in p or "wqy" in p for p in fallbacks) or not any(
        "Symbola" in p for p in fallbacks
    ):
        pytest.skip("needs fonts-noto-cjk (or fonts-wqy-zenhei) and fonts-symbola (.ci/run)")
    s = _hostile(us="北京 Trading 😀 👍")
    text = _pdf_text(proposal.proposal_document(s).to_pdf())
    assert "北京 Trading 😀 👍" in text
    assert "?" not in text.split("北京")[0][-3:]


def test_line_breaks_in_names_keep_the_markdown_structure() -> None:
    s = _hostile(option="2 weeks\n# injected heading\n- injected item", us="Us\n\n| x |")
    md = proposal.proposal_document(s, audience="internal").to_markdown()
    lines = md.splitlines()
    assert not any(ln.startswith("# injected") for ln in lines)
    assert not any(ln.startswith("- injected") for ln in lines)
    assert "2 weeks \\# injected heading - injected item" in md
    heads = [ln for ln in lines if ln.startswith("# ")]
    assert len(heads) == 1
    table_rows = [ln for ln in lines if ln.startswith("|")]
    assert all(ln.endswith("|") for ln in table_rows)
