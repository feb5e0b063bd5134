"""Real-browser tests of "the app never loses work": scores typed at any speed or pasted, form and
YAML edits together, a reload, and "Start blank" (Playwright + Debian's Chromium, as
tests/test_browser.py; a server of its own with an empty workspace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect
from test_browser import ARTIFACTS, _idle, _no_exception, browser, server  # noqa: F401

pytestmark = pytest.mark.browser

SCORE_ISSUES = {  # SaaS renewal: (issue, its options) typed into, one per typing speed
    "human": ("term", ["1 year", "2 years", "3 years"]),
    "fast": ("SLA", ["99.5%", "99.9%", "99.95%"]),
    "burst": ("support tier", ["standard", "premium", "enterprise"]),
    "paste": ("payment terms", ["net 30", "net 60", "net 90"]),
}
PARTIES = ["Northwind Ops", "CloudDesk"]


@pytest.fixture
def page(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def _shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"workspace_{name}.png"), full_page=True)


def _open(pg, url: str) -> None:
    pg.goto(url)
    pg.locator("h1").filter(has_text="Scenario").wait_for()
    _idle(pg)


def _download(pg) -> dict:
    with pg.expect_download() as info:
        pg.locator('[data-testid="stSidebar"]').get_by_role(
            "button", name="Download scenario (YAML)"
        ).click()
    return yaml.safe_load(Path(info.value.path()).read_text(encoding="utf-8"))


def _cell(pg, party: str, issue: str, option: str):
    return pg.get_by_label(f"{party}: {issue} = {option}", exact=True)


def _type_scores(pg, speed: str, values: dict[tuple[str, str], int]) -> None:
    """Type each score into its cell and leave it with Tab, ``speed`` apart."""
    delay = {"human": 1000, "fast": 300, "burst": 0, "paste": 0}[speed]
    for (party, option), v in values.items():
        issue = SCORE_ISSUES[speed][0]
        cell = _cell(pg, party, issue, option)
        cell.click()
        expect(cell).to_be_focused()  # as a person sees the cursor in the cell
        pg.keyboard.press("ControlOrMeta+a")
        if speed == "paste":
            pg.evaluate("t => navigator.clipboard.writeText(t)", str(v))
            pg.keyboard.press("ControlOrMeta+v")
        else:
            pg.keyboard.type(str(v), delay=0 if speed in ("burst", "fast") else 80)
        expect(cell).to_have_value(str(v))  # and the number in it before moving on
        pg.keyboard.press("Tab")
        if delay:
            pg.wait_for_timeout(delay)
        else:
            # "burst" and "paste" are about the keys of one cell arriving at once (no delay
            # between keys); the next cell waits for the app to take the last one. Tabbing on
            # while that rerun is still running can still lose a value under heavy load: a known
            # gap, kept open in issue 9's note, not hidden here.
            _idle(pg)


@pytest.mark.parametrize("speed", list(SCORE_ISSUES))
def test_scores_typed_at_any_speed_are_all_kept(page, server, speed: str) -> None:  # noqa: F811
    _open(page, server + "/")
    page.get_by_role("tab", name="Preferences").click()
    _idle(page)
    issue, options = SCORE_ISSUES[speed]
    values = {
        (party, option): 11 + 7 * i + 3 * j
        for j, party in enumerate(PARTIES)
        for i, option in enumerate(options)
    }
    _type_scores(page, speed, values)
    _idle(page)
    page.wait_for_timeout(1500)
    _idle(page)
    _no_exception(page, f"typing {speed}")
    _shot(page, f"scores_{speed}")
    data = _download(page)
    for party in data["parties"]:
        scores = party["preferences"]["values"][issue]
        for option in options:
            assert scores[option] == values[(party["name"], option)], (speed, party["name"], option)


def test_form_edit_then_yaml_apply_keeps_both_and_reload_comes_back(page, server) -> None:  # noqa: F811
    _open(page, server + "/")
    page.get_by_role("tab", name="Issues & status").click()
    _idle(page)
    table = page.get_by_label("On the table", exact=True).first
    table.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("50,5")  # a decimal comma
    page.keyboard.press("Enter")
    expect(table).to_have_value("50.5")  # taken as 50.5 by the app (and shown so)
    _idle(page)
    page.get_by_role("tab", name="YAML").click()
    _idle(page)
    box = page.get_by_label("Scenario YAML")
    expect(box).to_have_value(re.compile(r"value: 50\.5\n"))  # the YAML tab shows the edit
    text = box.input_value()
    box.fill(re.sub(r"(?m)^name: .*$", "name: Renewal after the call", text, count=1))
    page.get_by_role("button", name="Apply YAML").click()
    _idle(page)
    _no_exception(page, "apply YAML")
    data = _download(page)
    assert data["name"] == "Renewal after the call"
    assert data["issues"][0]["value"] == 50.5  # applying YAML did not revert the form edit
    url = page.url
    assert "n=" in url
    saved = page.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"version \d+"))
    version = re.search(r"version (\d+)", saved.first.inner_text()).group(1)
    _shot(page, "before_reload")
    page.reload()
    page.locator("h1").filter(has_text="Scenario").wait_for()
    _idle(page)
    assert page.url == url
    again = page.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"version \d+"))
    assert re.search(r"version (\d+)", again.first.inner_text()).group(1) == version
    data = _download(page)
    assert data["name"] == "Renewal after the call" and data["issues"][0]["value"] == 50.5
    _shot(page, "after_reload")


def test_start_blank_keeps_the_previous_negotiation(page, server) -> None:  # noqa: F811
    _open(page, server + "/")
    before = _download(page)["name"]
    page.get_by_role("button", name="Start blank").click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("Scenario: New negotiation")).to_be_visible()  # as a person sees it
    _idle(page)
    assert _download(page)["name"] == "New negotiation"
    sidebar.get_by_text(re.compile(r"Saved negotiations")).wait_for()
    listed = sidebar.get_by_role("button", name=re.compile("^" + re.escape(before)))
    assert listed.count() == 1
    _shot(page, "negotiation_list")
    listed.first.click()
    expect(sidebar.get_by_text(f"Scenario: {before}")).to_be_visible()
    _idle(page)
    assert _download(page)["name"] == before  # and it opens again, as it was


def test_no_deploy_button_nor_developer_menu(page, server) -> None:  # noqa: F811
    """`.streamlit/config.toml` (toolbarMode = "viewer") is what the app runs with."""
    _open(page, server + "/")
    assert page.get_by_role("button", name="Deploy").count() == 0
    menu = page.locator('[data-testid="stMainMenu"]')
    if menu.count():
        menu.first.click()
        page.wait_for_timeout(500)
        items = " ".join(page.locator('[data-testid="stMainMenuPopover"]').all_inner_texts())
        _shot(page, "main_menu")
        for developer_item in ("Clear cache", "Deploy", "Developer"):
            assert developer_item not in items, items
