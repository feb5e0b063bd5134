"""The negotiation log: offers round-trip through the file; the utility path; who conceded more."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_explain import THEM, US, deal

from optimizer import Scenario
from optimizer.cli.main import main
from optimizer.errors import ScenarioValidationError
from optimizer.reports.negotiation_log import (
    concession_analysis,
    format_log,
    log_report,
    record_offer,
    utility_path,
)

ROOT = Path(__file__).resolve().parents[1]


def _rounds() -> Scenario:
    s = deal()
    s = record_offer(s, by=THEM, package={"price": 120, "delivery": "8 weeks"}, date="2026-03-02")
    s = record_offer(
        s,
        by=US,
        package={"price": 100, "payment": "net 90"},
        date=dt.date(2026, 3, 9),
        note="our opening",
    )
    s = record_offer(s, by=US, package={"price": 105}, date="2026-03-10")  # we move again
    s = record_offer(
        s,
        by=THEM,
        package={"price": 115},
        date="2026-03-16",
        status_changes={"delivery": "agreed"},
    )
    return s


def test_record_offer_returns_a_copy_and_applies_status_changes() -> None:
    s = deal()
    s2 = record_offer(
        s,
        by=US,
        package={"training": "full", "delivery": "4 weeks"},
        date="2026-01-05",
        status_changes={"training": "agreed", "payment": "provisional"},
        note="after the site visit",
    )
    assert s.history == [] and s.issue("training").status == "provisional"  # unchanged
    assert len(s2.history) == 1
    offer = s2.history[0]
    assert offer.by == US and offer.date == dt.date(2026, 1, 5)
    assert offer.package == {"training": "full", "delivery": "4 weeks"}
    assert offer.note == "after the site visit"
    assert s2.issue("training").status == "agreed" and s2.issue("training").value == "full"
    assert s2.issue("payment").status == "provisional" and s2.issue("payment").value == "net 30"
    assert s2.issue("delivery").value == "2 weeks"  # not a status change: the table is unchanged


def test_bad_offers_are_refused_with_locations() -> None:
    s = deal()
    with pytest.raises(ScenarioValidationError) as e:
        record_offer(s, by="Nobody", package={"price": 110}, date="2026-01-05")
    assert "unknown party 'Nobody'" in str(e.value)
    with pytest.raises(ScenarioValidationError) as e:
        record_offer(s, by=US, package={"price": 111}, date="2026-01-05")
    assert "price" in str(e.value)
    with pytest.raises(ScenarioValidationError):
        record_offer(s, by=US, package={}, date="yesterday")


def test_log_round_trips_through_the_file(tmp_path: Path) -> None:
    s = _rounds()
    for name in ("deal.yaml", "deal.json"):
        path = tmp_path / name
        s.save(path)
        back = Scenario.load(path)
        assert back.history == s.history
        assert back == s
        assert [r.model_dump() for r in utility_path(back)] == [
            r.model_dump() for r in utility_path(s)
        ]


def test_utility_path_fills_in_missing_terms() -> None:
    s = _rounds()
    rounds = utility_path(s)
    assert [r.by for r in rounds] == [THEM, US, US, THEM]
    table = dict(s.reference())
    table["delivery"] = "2 weeks"  # the value on the table before round 1
    expected = []
    full = dict(table)
    for offer in s.history:
        full = {**full, **offer.package}
        expected.append(full)
    for r, pkg in zip(rounds, expected, strict=True):
        assert r.package == {k: (int(v) if isinstance(v, float) else v) for k, v in pkg.items()}
        u = s.utilities([pkg])[0]
        assert r.utilities == pytest.approx({US: u[0], THEM: u[1]})
    assert rounds[1].changed == ["price", "payment"]
    assert rounds[2].changed == ["price"]
    assert rounds[3].status_changes == {"delivery": "agreed"}


def test_concessions_and_reciprocity() -> None:
    s = _rounds()
    rounds = utility_path(s)
    c = concession_analysis(s, rounds)
    ours = [r.utilities[US] for r in rounds if r.by == US]
    theirs = [r.utilities[THEM] for r in rounds if r.by == THEM]
    assert c[US].offers == 2 and c[THEM].offers == 2
    assert c[US].conceded == pytest.approx(ours[0] - ours[-1]) and c[US].conceded > 0
    assert c[THEM].conceded == pytest.approx(theirs[0] - theirs[-1]) and c[THEM].conceded > 0
    # Round 3: we moved again before they had moved at all.
    assert c[US].unreciprocated == [3]
    assert c[THEM].unreciprocated == []
    report = log_report(s)
    assert report.we_conceded_more == (c[US].conceded > c[THEM].conceded)
    assert "Unreciprocated concession of ours in round 3" in report.text
    text = format_log(s, report)
    assert "round 2: our opening" in text
    assert "2026-03-16" in text and "delivery agreed" in text


def test_empty_log() -> None:
    report = log_report(deal())
    assert report.rounds == [] and report.we_conceded_more is None
    assert report.text == "No offers are recorded yet."


def test_cli_log_prints_and_records(tmp_path: Path, capsys) -> None:
    src = tmp_path / "deal.yaml"
    _rounds().save(src)
    assert main(["log", str(src)]) == 0
    out = capsys.readouterr().out
    assert "Buyer Co utility" in out and "Seller Inc utility" in out
    assert "4 offers recorded." in out

    dst = tmp_path / "next.yaml"
    argv = ["log", str(src), "--add", THEM, "--set", "price=110", "--set", "payment=net 60"]
    argv += ["--status", "price=provisional", "--date", "2026-03-20", "-o", str(dst)]
    assert main(argv) == 0
    back = Scenario.load(dst)
    assert len(back.history) == 5
    assert back.history[-1].package == {"price": 110, "payment": "net 60"}
    assert back.issue("price").status == "provisional" and back.issue("price").value == 110
    capsys.readouterr()
    assert main(argv) == 1  # refuses to replace the output
    assert "exists" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["log", str(src), "--add", THEM, "--set", "colour=red", "-o", str(dst)])
    assert e.value.code == 2
    assert "unknown issue 'colour'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "example",
    sorted(p.name for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".yml", ".json")),
)
def test_cli_log_on_every_example(example: str, capsys) -> None:
    assert main(["log", str(ROOT / "examples" / example)]) == 0
    out = capsys.readouterr().out
    assert "offer" in out
