"""Real browser: a scenario whose names are Markdown/HTML loads no remote content and plants no
link (issue 15). ``streamlit run ui/app.py`` with the hostile scenario, driven by Playwright.

Skipped when ``/usr/bin/chromium`` is missing, unless ``REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
HOST = "tracker.invalid"
PARTY = f"![x](http://{HOST}/track.png)"
NAME = f"[click me](http://{HOST}/phish) <img src='http://{HOST}/i.png'>"

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

from test_browser import streamlit_server  # noqa: E402 - after the module's skip checks


def _hostile_file(tmp: Path) -> Path:
    from optimizer.scenario.models import Scenario

    data = Scenario.load(ROOT / "examples" / "saas_renewal.yaml").to_dict()
    old = data["parties"][1]["name"]
    text = json.dumps(data).replace(json.dumps(old)[1:-1], PARTY)
    out = json.loads(text)
    out["name"] = NAME
    path = tmp / "hostile.json"
    path.write_text(json.dumps(out), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """The app started on the hostile scenario (its own workspace)."""
    tmp = tmp_path_factory.mktemp("hostile")
    with streamlit_server(
        _hostile_file(tmp), tmp / "workspace.sqlite", "streamlit_names.log"
    ) as base:
        yield base


def _idle(pg) -> None:
    pg.wait_for_timeout(300)
    pg.wait_for_function(
        """() => {
            const w = document.querySelector('[data-testid="stStatusWidget"]');
            return !w || !/running/i.test(w.innerText);
        }""",
        timeout=60_000,
    )
    pg.wait_for_timeout(300)


def test_hostile_names_load_nothing_and_plant_no_link(server) -> None:
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            pg = ctx.new_page()
            pg.set_default_timeout(60_000)
            pg.on("request", lambda r: requests.append(r.url))
            pg.goto(server + "/")
            pg.locator("h1").filter(has_text="Scenario").wait_for()
            _idle(pg)
            for title in ("Scenario", "Win-win packages", "Trade-off map", "Progress", "Proposals"):
                if title != "Scenario":
                    nav = pg.locator('[data-testid="stSidebarNav"]')
                    nav.get_by_role("link", name=title).click()
                    pg.locator("h1").filter(has_text=title).first.wait_for()
                    _idle(pg)
                if title == "Win-win packages":  # wait for the search's table
                    pg.get_by_text("win-win package(s)", exact=False).first.wait_for()
                    _idle(pg)
                assert pg.locator('[data-testid="stException"]').count() == 0, title
                links = pg.locator(f'a[href*="{HOST}"]').count()
                images = pg.locator(f'img[src*="{HOST}"]').count()
                pg.screenshot(path=str(ARTIFACTS / f"names_{title.split()[0]}.png"), full_page=True)
                found = pg.locator(f'a[href*="{HOST}"]').evaluate_all(
                    "els => els.map(e => e.parentElement.parentElement.outerHTML.slice(0, 400))"
                )
                assert links == 0 and images == 0, (title, links, images, found)
                if title == "Win-win packages":  # the party's name is on screen, as text
                    assert pg.get_by_text("![x](http:", exact=False).count() > 0
        finally:
            browser.close()
    assert not [u for u in requests if HOST in u], "a request left for the name's host"
