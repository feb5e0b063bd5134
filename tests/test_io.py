"""Scenario files: safe reading, clear errors for bad files, loss-free round trips, the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from optimizer import Scenario, ScenarioFileError, ScenarioValidationError
from optimizer.scenario.files import (
    SCHEMA_PATH,
    dumps_scenario,
    load_scenario,
    loads_scenario,
    read_data,
    save_scenario,
    scenario_json_schema,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".json"))

MINIMAL = """\
name: minimal
parties:
  - name: A
    preferences:
      weights: {size: 1}
      values: {size: {small: 1, large: 2}}
  - name: B
    preferences:
      weights: {size: 1}
      values: {size: {small: 2, large: 1}}
issues:
  - name: size
    options: [small, large]
    value: small
"""


def file_error(path: Path) -> str:
    with pytest.raises(ScenarioFileError) as exc:
        load_scenario(path)
    return str(exc.value)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_is_loss_free(example: Path, fmt: str, tmp_path: Path) -> None:
    s = Scenario.load(example)
    out = tmp_path / f"copy.{fmt}"
    s.save(out)
    again = Scenario.load(out)
    assert again == s
    assert again.to_dict() == s.to_dict()
    # Saving the reloaded scenario gives the same text: nothing drifts.
    assert dumps_scenario(again, fmt) == out.read_text(encoding="utf-8")


def test_saved_numbers_read_as_written(tmp_path: Path) -> None:
    s = Scenario.load(ROOT / "examples" / "house_purchase.json")
    text = dumps_scenario(s, "json")
    data = json.loads(text)
    price = next(i for i in data["issues"] if i["name"] == "price")
    assert price["value"] == 505000 and isinstance(price["value"], int)
    assert re.search(r'"value": 505000(?![.\d])', text) and '"value": 505000.0' not in text
    buydown = next(i for i in data["issues"] if i["name"] == "rate buydown")
    assert buydown["options"] == ["0", "0.6", "1.2"]
    yaml_text = dumps_scenario(s, "yaml")
    assert "- '0.6'" in yaml_text  # quoted: stays text when read back


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    s = loads_scenario(MINIMAL)
    target = write(tmp_path, "mine.yaml", "# my notes, not a scenario yet\n")
    with pytest.raises(
        FileExistsError, match="mine.yaml exists; pass overwrite=True to replace it"
    ):
        s.save(target)
    assert target.read_text(encoding="utf-8") == "# my notes, not a scenario yet\n"
    s.save(target, overwrite=True)
    assert Scenario.load(target) == s


def test_save_writes_json_by_extension(tmp_path: Path) -> None:
    s = loads_scenario(MINIMAL)
    save_scenario(s, tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text())["name"] == "minimal"


# -- numbers and names as written -----------------------------------------------------------


def test_option_names_keep_the_text_the_user_wrote(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "options: [small, large]", "options: [2000, 0.6, 2.50, 007, yes, 2025-01-06]"
    )
    text = text.replace("value: small", "value: 2.50")
    text = text.replace("{small: 1, large: 2}", "{2000: 1, 0.6: 2, 2.50: 3, yes: 4, 2025-01-06: 5}")
    text = text.replace("{small: 2, large: 1}", '{"2000": 5, "007": 1}')
    s = Scenario.load(write(tmp_path, "s.yaml", text))
    issue = s.issue("size")
    assert issue.options == ["2000", "0.6", "2.50", "007", "yes", "2025-01-06"]
    assert issue.value == "2.50"
    assert s.party("A").preferences.values["size"] == {
        "2000": 1,
        "0.6": 2,
        "2.50": 3,
        "yes": 4,
        "2025-01-06": 5,
    }
    again = tmp_path / "again.yaml"
    s.save(again)
    assert Scenario.load(again) == s


def test_json_option_numbers_become_their_text() -> None:
    data = json.loads(json.dumps(__import__("yaml").safe_load(MINIMAL)))
    data["issues"][0]["options"] = [2000, 0.6]
    data["issues"][0]["value"] = 0.6
    data["parties"][0]["preferences"]["values"]["size"] = {"2000": 1, "0.6": 2}
    data["parties"][1]["preferences"]["values"]["size"] = {"2000": 2, "0.6": 1}
    s = loads_scenario(json.dumps(data), fmt="json")
    assert s.issue("size").options == ["2000", "0.6"]
    assert s.reference() == {"size": "0.6"}


# -- bad files: each a clear message ----------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.yaml"
    assert file_error(p) == f"{p}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert file_error(tmp_path) == f"{tmp_path}: is a directory, not a scenario file"


def test_binary_garbage(tmp_path: Path) -> None:
    p = write(tmp_path, "x.yaml", bytes(range(256)) * 4)
    assert file_error(p) == f"{p}: binary data, not a YAML or JSON text file"


def test_not_utf8(tmp_path: Path) -> None:
    p = write(tmp_path, "x.yaml", "name: Caf\xe9\n".encode("latin-1"))
    assert file_error(p) == f"{p}: not UTF-8 text (bad byte at position 9); save it as UTF-8"


def test_empty_and_comment_only(tmp_path: Path) -> None:
    p = write(tmp_path, "empty.yaml", "  \n\n")
    assert file_error(p) == f"{p}: the file is empty"
    p = write(tmp_path, "comments.yaml", "# just a comment\n# another\n")
    assert file_error(p) == f"{p}: the file holds no scenario (only comments or null)"


def test_not_a_mapping(tmp_path: Path) -> None:
    p = write(tmp_path, "list.yaml", "- a\n- b\n")
    assert file_error(p) == (
        f"{p}: a scenario file must hold a mapping (name, parties, issues, ...), not a list"
    )
    p = write(tmp_path, "scalar.json", "42")
    assert file_error(p) == (
        f"{p}: a scenario file must hold a mapping (name, parties, issues, ...), not a number"
    )


def test_yaml_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, 10):
        prev, cur = chr(ord("a") + k - 1), chr(ord("a") + k)
        lines.append(
            f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    p = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert file_error(p) == (
        f"{p}: not valid YAML at line 2, column 8: YAML aliases (*name) are not allowed in "
        "scenario files; write the value out"
    )


def test_deeply_nested_json(tmp_path: Path) -> None:
    p = write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    assert file_error(p) == f"{p}: nesting is too deep (more than 64 levels)"
    p = write(tmp_path, "deep2.json", '{"name": ' + "[" * 100 + "]" * 100 + "}")
    assert file_error(p) == f"{p}: nesting is too deep (more than 64 levels)"


def test_deeply_nested_yaml(tmp_path: Path) -> None:
    p = write(tmp_path, "deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert file_error(p) == f"{p}: nesting is too deep (more than 64 levels)"


def test_invalid_syntax(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.json", '{"name": "x",}')
    assert file_error(p) == (
        f"{p}: not valid JSON: Expecting property name enclosed in double quotes at line 1, column 14"
    )
    p = write(tmp_path, "bad.yaml", "name: [x\nparties: 1\n")
    assert file_error(p).startswith(f"{p}: not valid YAML at line 2, column 8: ")


def test_duplicate_keys(tmp_path: Path) -> None:
    p = write(tmp_path, "dup.yaml", MINIMAL + "name: again\n")
    assert file_error(p) == f"{p}: not valid YAML at line 15, column 1: duplicate key 'name'"


def test_python_tags_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for i, tag in enumerate(
        [
            f'!!python/object/apply:os.system ["touch {marker}"]',
            f'!!python/object/new:subprocess.check_call [["touch", "{marker}"]]',
            '!!python/name:os.system ""',
            "!custom 3",
        ]
    ):
        p = write(tmp_path, f"tag{i}.yaml", f"name: {tag}\n")
        message = file_error(p)
        assert message.startswith(f"{p}: not valid YAML at line 1, column 7: ")
        assert message.endswith(
            "YAML tags (!!python/..., !custom) are not allowed in scenario files"
        )
    assert not marker.exists()


@pytest.mark.parametrize(
    ("fmt", "value"), [("json", "NaN"), ("json", "-Infinity"), ("yaml", ".nan"), ("yaml", ".inf")]
)
def test_nan_and_inf_are_refused(fmt: str, value: str, tmp_path: Path) -> None:
    if fmt == "yaml":
        text = MINIMAL.replace("weights: {size: 1}", f"weights: {{size: {value}}}", 1)
    else:
        data = __import__("yaml").safe_load(MINIMAL)
        data["parties"][0]["preferences"]["weights"]["size"] = "@"
        text = json.dumps(data).replace('"@"', value)
    p = write(tmp_path, f"s.{fmt}", text)
    with pytest.raises(ScenarioValidationError) as exc:
        load_scenario(p)
    assert [str(x) for x in exc.value.problems] == [
        'party "A" > weights > "size": must be a finite number (NaN and infinity are not allowed)'
    ]


def test_unknown_keys_and_wrong_types_are_located(tmp_path: Path) -> None:
    text = MINIMAL.replace("name: minimal", "name: minimal\nversoin: 2").replace(
        "weights: {size: 1}\n      values: {size: {small: 1, large: 2}}",
        "weights: {size: heavy}\n      values: {size: {small: 1, large: 2}}",
    )
    with pytest.raises(ScenarioValidationError) as exc:
        load_scenario(write(tmp_path, "s.yaml", text))
    assert [str(x) for x in exc.value.problems] == [
        'party "A" > weights > "size": must be a number, not text (\'heavy\')',
        "scenario: unknown key 'versoin' (not part of the scenario format)",
    ]


def test_json_booleans_are_refused() -> None:
    data = json.loads(json.dumps(__import__("yaml").safe_load(MINIMAL)))
    data["parties"][0]["preferences"]["weights"]["size"] = True
    data["metadata"] = {"draft": True}  # free-form notes may hold anything
    with pytest.raises(ScenarioValidationError) as exc:
        loads_scenario(json.dumps(data), fmt="json")
    assert [str(x) for x in exc.value.problems] == [
        'party "A" > weights > "size": must be a number or text, not true'
    ]


def test_too_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer.scenario.files as io

    monkeypatch.setattr(io, "MAX_BYTES", 100)
    p = write(tmp_path, "big.yaml", MINIMAL)
    assert file_error(p) == f"{p}: the file is too large ({len(MINIMAL)} bytes; limit 20 MB)"


# -- the schema -------------------------------------------------------------------------------


def test_shipped_schema_is_the_generated_one() -> None:
    from optimizer.cli.validate import schema_text

    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "optimizer/scenario.schema.json is stale: run "
        "`dealopt schema -o optimizer/scenario.schema.json --force`"
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_match_the_schema(example: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    errors = [e.message for e in validator.iter_errors(read_data(example))]
    assert errors == []


def test_schema_rejects_what_the_models_reject() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    data = json.loads(json.dumps(__import__("yaml").safe_load(MINIMAL)))
    assert not list(validator.iter_errors(data))
    data["parties"][0]["colour"] = "blue"
    assert [e.message for e in validator.iter_errors(data)] == [
        "Additional properties are not allowed ('colour' was unexpected)"
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_read_data_is_plain(example: Path) -> None:
    """Raw data (as the UI keeps it) holds plain types only and dumps back to YAML."""
    import yaml

    data = read_data(example)
    stack = [data]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            assert all(type(k) is str for k in cur)
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
        else:
            assert type(cur) in (str, int, float, type(None)), (type(cur), cur)
    assert yaml.safe_load(yaml.safe_dump(data)) == data
