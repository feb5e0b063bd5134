"""``dealopt validate`` / ``dealopt schema``: exit codes, messages, and mutation fuzzing."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.cli.main import main
from optimizer.scenario.files import SCHEMA_PATH, read_data
from optimizer.scenario.models import Scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".json"))

SUMMARIES = {
    "house_purchase.json": "7 issues, 2 parties, 1 agreed, 1 provisional, 5 open",
    "job_offer.yaml": "6 issues, 2 parties, 1 agreed, 1 provisional, 4 open",
    "leather_reorder.yaml": "7 issues, 2 parties, 1 agreed, 1 provisional, 5 open",
    "research_collaboration.yaml": "6 issues, 2 parties, 1 agreed, 1 provisional, 4 open",
    "saas_renewal.yaml": "7 issues, 2 parties, 2 agreed, 1 provisional, 4 open",
    "solar_bid.yaml": "11 issues, 2 parties, 2 agreed, 1 provisional, 8 open",
    "supplier_contract.yaml": "6 issues, 2 parties, 1 agreed, 1 provisional, 4 open",
    "three_party_deal.yaml": "7 issues, 3 parties, 1 agreed, 1 provisional, 5 open",
}


def run(*argv: str) -> tuple[int, str, str]:
    """``main(argv)`` with its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse: a wrong command line
            code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_every_example_is_listed() -> None:
    assert sorted(SUMMARIES) == [p.name for p in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_validate_accepts_every_example(example: Path) -> None:
    code, out, err = run("validate", str(example))
    assert code == 0, err
    assert out == f"{example}: valid: {SUMMARIES[example.name]}\n"


def test_validate_prints_warnings_on_stderr() -> None:
    example = ROOT / "examples" / "solar_bid.yaml"
    code, out, err = run("validate", str(example))
    assert code == 0
    assert err == (
        'warning: party "Town of Millbrook" > reservation_value: the deal on the table gives '
        "Town of Millbrook 19.46, below its reservation value 45\n"
    )


def test_validate_reports_every_problem_located(tmp_path: Path) -> None:
    data = read_data(ROOT / "examples" / "saas_renewal.yaml")
    data["parties"][1]["preferences"]["weights"]["seats"] = "many"
    data["issues"][0]["value"] = 61
    data["constraints"][0]["issue"] = "price"
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(json.loads(json.dumps(data))), encoding="utf-8")
    code, out, err = run("validate", str(p))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{p}: invalid scenario",
        'party "CloudDesk" > weights > "seats": must be a number, not text (\'many\')',
        'issue "price per seat": value 61 is not on the issue\'s grid (40 to 60 in steps of 1)',
        "constraint \"vendor price floor\" > issue: unknown issue 'price'",
    ]


def test_validate_unreadable_file(tmp_path: Path) -> None:
    code, out, err = run("validate", str(tmp_path / "missing.yaml"))
    assert (code, out, err) == (1, "", f"{tmp_path / 'missing.yaml'}: no such file\n")
    code, out, err = run("validate", str(tmp_path))
    assert (code, err) == (1, f"{tmp_path}: is a directory, not a scenario file\n")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["validate"],
        ["validate", "a.yaml", "b.yaml"],
        ["frobnicate"],
        ["validate", "--bogus", "x"],
    ],
)
def test_wrong_command_line_exits_2(argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert "usage: dealopt" in err and "error:" in err


def test_python_m_optimizer_exit_codes(tmp_path: Path) -> None:
    """The real entry point in a subprocess: 0 valid, 1 invalid, 2 wrong command line."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nparties: 3\nissues: []\n", encoding="utf-8")
    good = ROOT / "examples" / "job_offer.yaml"

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "optimizer", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    ok = call("validate", str(good))
    assert (ok.returncode, ok.stdout) == (0, f"{good}: valid: {SUMMARIES['job_offer.yaml']}\n")
    ko = call("validate", str(bad))
    assert ko.returncode == 1 and "Traceback" not in ko.stderr
    assert ko.stderr.splitlines() == [
        f"{bad}: invalid scenario",
        "parties: must be a list, not 3",
        "issues: needs at least 1 item",
    ]
    usage = call("validate")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_schema_command(tmp_path: Path) -> None:
    code, out, err = run("schema")
    assert code == 0 and out == SCHEMA_PATH.read_text(encoding="utf-8")
    assert json.loads(out)["title"] == "Deal-structuring scenario"
    target = tmp_path / "schema.json"
    assert run("schema", "-o", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == out
    target.write_text("mine", encoding="utf-8")
    code, _, err = run("schema", "-o", str(target))
    assert (code, err) == (1, f"error: {target} exists; pass --force to replace it\n")
    assert target.read_text(encoding="utf-8") == "mine"
    assert run("schema", "-o", str(target), "--force")[0] == 0
    assert target.read_text(encoding="utf-8") == out


# -- mutation fuzzing -------------------------------------------------------------------------

PLAIN = {p.name: json.loads(json.dumps(read_data(p))) for p in EXAMPLES}


def _containers(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every dict and list with its path (free-form metadata left out)."""
    out = [(path, data)]
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for k, v in items:
        if path == () and k == "metadata":
            continue
        if isinstance(v, dict | list):
            out.extend(_containers(v, (*path, k)))
    return out


def _leaves(data: Any) -> list[tuple[tuple, Any]]:
    out = []
    for path, c in _containers(data):
        items = c.items() if isinstance(c, dict) else enumerate(c)
        for k, v in items:
            if not isinstance(v, dict | list) and not (path == () and k == "metadata"):
                out.append(((*path, k), v))
    return out


def _get(data: Any, path: tuple) -> Any:
    for k in path:
        data = data[k]
    return data


def _set(data: Any, path: tuple, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _rename_issue(data: dict, old: str, new: str) -> None:
    """Rename an issue everywhere it is referenced (so the scenario stays valid)."""

    def rekey(d: dict) -> dict:
        return {(new if k == old else k): v for k, v in d.items()}

    for issue in data["issues"]:
        if issue["name"] == old:
            issue["name"] = new
    for party in data["parties"]:
        prefs = party["preferences"]
        prefs["weights"] = rekey(prefs["weights"])
        if "values" in prefs:
            prefs["values"] = rekey(prefs["values"])
        for syn in prefs.get("synergies", []):
            syn["when"] = rekey(syn["when"])
        for level in ("reservation_value", "aspiration"):
            if isinstance(party.get(level), dict) and "package" in party[level]:
                party[level]["package"] = rekey(party[level]["package"])
    for c in data.get("constraints", []):
        if c.get("issue") == old:
            c["issue"] = new
        for key in ("combination", "when", "then", "costs"):
            if key in c:
                c[key] = rekey(c[key])
    for offer in data.get("history", []):
        for key in ("package", "status_changes"):
            if key in offer:
                offer[key] = rekey(offer[key])


def _rename_party(data: dict, old: str, new: str) -> None:
    for party in data["parties"]:
        if party["name"] == old:
            party["name"] = new
    if data.get("us") == old:
        data["us"] = new
    for c in data.get("constraints", []):
        if c.get("party") == old:
            c["party"] = new
    for offer in data.get("history", []):
        if offer.get("by") == old:
            offer["by"] = new


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda s: s.strip() == s and s != "")


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, dict, str, str]:
    """(example, mutated data, kind, expected: "valid" / "invalid" / "either")."""
    name = draw(st.sampled_from(sorted(PLAIN)))
    data = copy.deepcopy(PLAIN[name])
    kind = draw(
        st.sampled_from(
            ["remove", "non_finite", "huge", "wrong_type", "rename", "duplicate", "unknown_key"]
        )
    )
    if kind == "remove":
        n_p, n_i = len(data["parties"]), len(data["issues"])
        required = [("name",), ("parties",), ("issues",)]
        required += [("parties", i, k) for i in range(n_p) for k in ("name", "preferences")]
        required += [("parties", i, "preferences", "weights") for i in range(n_p)]
        required += [("issues", j, "name") for j in range(n_i)]
        path = draw(st.sampled_from(required))
        del _get(data, path[:-1])[path[-1]]
        return name, data, kind, "invalid"
    if kind in ("non_finite", "huge"):
        numbers = [
            p for p, v in _leaves(data) if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        path = draw(st.sampled_from(numbers))
        if kind == "non_finite":
            _set(data, path, draw(st.sampled_from([math.nan, math.inf, -math.inf])))
            return name, data, kind, "invalid"
        _set(data, path, draw(st.sampled_from([1e300, -1e300, 1.7e308, 10**30, -(10**30)])))
        return name, data, kind, "either"
    if kind == "wrong_type":
        path, value = draw(st.sampled_from(_leaves(data)))
        if isinstance(value, str):
            _set(data, path, draw(st.sampled_from([[1], {"x": 1}])))
        else:
            _set(data, path, draw(st.sampled_from(["not a number", [], {"x": "y"}])))
        return name, data, kind, "invalid"
    if kind == "rename":
        new = draw(NAMES)
        if draw(st.booleans()):
            old = draw(st.sampled_from([i["name"] for i in data["issues"]]))
            taken = {i["name"] for i in data["issues"]}
            if new in taken:
                return name, data, kind, "valid"
            _rename_issue(data, old, new)
        else:
            old = draw(st.sampled_from([p["name"] for p in data["parties"]]))
            if new in {p["name"] for p in data["parties"]}:
                return name, data, kind, "valid"
            _rename_party(data, old, new)
        return name, data, kind, "valid"
    if kind == "duplicate":
        key = draw(st.sampled_from(["issues", "parties"]))
        i, j = draw(st.permutations(range(len(data[key]))))[:2]
        data[key][j]["name"] = data[key][i]["name"]
        return name, data, kind, "invalid"
    containers = [(p, c) for p, c in _containers(data) if isinstance(c, dict)]
    path, target = draw(st.sampled_from(containers))
    target[draw(st.sampled_from(["zz_unknown", "colour ü", "naem"]))] = 1
    return name, data, kind, "invalid"


def _oracle(data: dict) -> bool:
    """Independent check: does pydantic accept the data as it is?"""
    try:
        Scenario.model_validate(data)
    except Exception:
        return False
    return True


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutations(), st.sampled_from(["yaml", "json"]))
def test_validate_never_crashes_on_mutated_examples(
    case: tuple[str, dict, str, str], fmt: str
) -> None:
    name, data, kind, expected = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mutated.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        code, out, err = run("validate", str(path))
    assert code in (0, 1), (kind, err)
    assert "Traceback" not in err and "could not be checked" not in err, err
    if expected == "either":
        expected = "valid" if _oracle(data) else "invalid"
    if expected == "valid":
        assert code == 0, f"{name} {kind}: {err}"
        assert out.startswith(f"{path}: valid: ")
        assert _oracle(data)
    else:
        assert code == 1, f"{name} {kind} should be invalid: {out}"
        lines = err.splitlines()
        assert lines and lines[0] == f"{path}: invalid scenario", err
        assert len(lines) >= 2
        for line in lines[1:]:
            location, sep, message = line.partition(": ")
            assert sep and location and message, line
            assert "function-after" not in line and "list[" not in location, line


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
ANY_DATA = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
ISSUE_NAMES = st.sampled_from(["price", "term", "x", ""])
SHAPED = st.fixed_dictionaries(
    {
        "name": SCALARS,
        "parties": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["A", "B", "A"]) | SCALARS,
                    "preferences": st.fixed_dictionaries(
                        {
                            "weights": st.dictionaries(ISSUE_NAMES, SCALARS | ANY_DATA, max_size=3),
                            "values": st.dictionaries(ISSUE_NAMES, ANY_DATA, max_size=3),
                        }
                    ),
                },
                optional={"reservation_value": ANY_DATA, "aspiration": ANY_DATA},
            ),
            max_size=3,
        ),
        "issues": st.lists(
            st.fixed_dictionaries(
                {"name": ISSUE_NAMES},
                optional={
                    "options": st.lists(SCALARS, max_size=3),
                    "min": SCALARS,
                    "max": SCALARS,
                    "step": SCALARS,
                    "status": st.sampled_from(["open", "agreed", "provisional", "done"]),
                    "value": SCALARS,
                },
            ),
            max_size=3,
        ),
    },
    optional={
        "constraints": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["acceptable", "forbidden", "implies", "budget", "x"])},
                optional={
                    "issue": ISSUE_NAMES,
                    "combination": ANY_DATA,
                    "when": ANY_DATA,
                    "then": ANY_DATA,
                    "costs": ANY_DATA,
                    "limit": SCALARS,
                    "min": SCALARS,
                },
            ),
            max_size=2,
        ),
        "history": st.lists(ANY_DATA, max_size=2),
        "us": SCALARS,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_DATA, SHAPED), st.sampled_from(["yaml", "json"]))
def test_validate_never_crashes_on_random_data(data: Any, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"random.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        code, out, err = run("validate", str(path))
    assert "Traceback" not in err and "could not be checked" not in err, err
    assert code in (0, 1)
    if code == 0:
        assert _oracle(read_data(path))
    else:
        assert err.strip(), "an invalid file explains why"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_validate_never_crashes_on_random_bytes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.yaml"
        path.write_bytes(raw)
        code, out, err = run("validate", str(path))
    assert code == 1 and out == ""
    assert "Traceback" not in err and err.strip()
