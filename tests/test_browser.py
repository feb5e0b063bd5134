"""Real-browser end-to-end tests: ``streamlit run ui/app.py`` driven by Playwright and Debian's Chromium.

Skipped when ``/usr/bin/chromium`` is missing, unless ``REQUIRE_BROWSER=1`` (CI), then they fail.
Screenshots of every step are kept under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)",
            pytrace=False,
        )
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(scenario: str | Path, workspace: Path, log_name: str) -> Iterator[str]:
    """``streamlit run ui/app.py`` on a free loopback port, starting on ``scenario`` with its own
    workspace; yields the base URL and stops the server afterwards (the browser tests share it)."""
    port = _free_port()
    env = {
        **os.environ,
        "DEALOPT_SCENARIO": str(scenario),
        "DEALOPT_UI_WORKERS": "2",
        "DEALOPT_WORKSPACE": str(workspace),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "ui/app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {proc.returncode}", pytrace=False)
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not answer within 60 s", pytrace=False)
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh ``streamlit run ui/app.py`` on a free loopback port (the SaaS example loaded)."""
    workspace = tmp_path_factory.mktemp("workspace") / "workspace.sqlite"
    with streamlit_server("examples/saas_renewal.yaml", workspace, "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    context.close()


def _shot(pg, name: str) -> None:
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _idle(pg) -> None:
    """Wait until the script run finished (no 'Running…' indicator), then a little more."""
    pg.wait_for_timeout(250)
    pg.wait_for_function(
        """() => {
            const w = document.querySelector('[data-testid="stStatusWidget"]');
            return !w || !/running/i.test(w.innerText);
        }""",
        timeout=TIMEOUT_MS,
    )
    pg.wait_for_timeout(250)


def _no_exception(pg, where: str) -> None:
    _idle(pg)
    n = pg.locator('[data-testid="stException"]').count()
    assert n == 0, f"{where}: {pg.locator('[data-testid=stException]').first.inner_text()}"


def _nav(pg, title: str) -> None:
    """Go to a page through the sidebar (same session, so the scenario is kept)."""
    pg.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    pg.locator("h1").filter(has_text=title).first.wait_for()
    _idle(pg)


def _sidebar_titles(pg) -> list[str]:
    links = pg.locator('[data-testid="stSidebarNav"] a')
    return [re.sub(r"^\S+\n", "", t).strip() for t in links.all_inner_texts()]


def test_deep_link_opens_the_page(page, server) -> None:
    """First visit of a fresh server on a page URL opens that page inside the navigation."""
    page.goto(server + "/tradeoff")
    page.locator("h1").filter(has_text="Trade-off map").wait_for()
    _no_exception(page, "deep link")
    page.locator(".js-plotly-plot").wait_for()


def test_every_page_opens_without_exception(page, server) -> None:
    page.goto(server + "/")
    page.locator("h1").filter(has_text="Scenario").wait_for()
    _no_exception(page, "start")
    titles = _sidebar_titles(page)
    assert titles[:4] == ["Scenario", "Win-win packages", "Trade-off map", "Progress"]
    for title in titles:
        _nav(page, title)
        _no_exception(page, title)
        _shot(page, "page_" + re.sub(r"\W+", "_", title.lower()))


def _set_status(pg, issue: str, status: str) -> None:
    box = pg.get_by_role("combobox", name=f"Status of {issue}")
    box.click()
    pg.get_by_role("option", name=status, exact=True).click()
    _idle(pg)


def test_newcomer_flow(page, server) -> None:
    page.goto(server + "/")
    page.locator("h1").filter(has_text="Scenario").wait_for()
    _idle(page)
    # Load the SaaS renewal explicitly (it is also the starting scenario).
    page.get_by_role("button", name="Load example").click()
    _idle(page)
    assert page.get_by_text("7 issues, 2 parties, 2 agreed, 1 provisional, 4 open").count() >= 1
    _shot(page, "flow_1_scenario")

    # Mark two issues agreed on the Progress page.
    _nav(page, "Progress")
    for issue in ("support tier", "payment terms"):
        _set_status(page, issue, "agreed")
    page.get_by_text("Agreed (4)").wait_for()
    _no_exception(page, "progress")
    summary = page.locator("blockquote").first.inner_text()
    assert "support tier" in summary and "payment terms" in summary
    _shot(page, "flow_2_progress")

    # The win-win packages for the edited scenario.
    _nav(page, "Win-win packages")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    _no_exception(page, "win-win")
    text = grid.inner_text() + grid.inner_html()
    assert "On the table" in text and "Package 1" in text
    assert "support tier (agreed)" in text
    _shot(page, "flow_3_winwin")

    # Click a frontier point: its package appears.
    _nav(page, "Trade-off map")
    page.locator(".js-plotly-plot").wait_for()
    _idle(page)
    points = page.locator(".js-plotly-plot .scatterlayer .trace").first.locator("path.point")
    n = points.count()
    assert n >= 2
    k = n - 1 if n > 2 else 0
    index = page.evaluate(
        "(k) => document.querySelector('.js-plotly-plot').data[0].customdata[k]", k
    )
    box = points.nth(k).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("h4").filter(has_text=re.compile(rf"^Point {index}\b")).first.wait_for()
    _no_exception(page, "trade-off map")
    assert (
        page.get_by_text("Differences to the deal on the table").count()
        + page.get_by_text("Same as the deal on the table").count()
        >= 1
    )
    _shot(page, "flow_4_tradeoff_clicked")

    # Download the scenario: the two issues are agreed in the file.
    with page.expect_download() as info:
        page.locator('[data-testid="stSidebar"]').get_by_role(
            "button", name="Download scenario (YAML)"
        ).click()
    path = info.value.path()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    statuses = {i["name"]: i.get("status", "open") for i in data["issues"]}
    assert statuses["support tier"] == "agreed"
    assert statuses["payment terms"] == "agreed"
    assert statuses["seats"] == "agreed"
    assert info.value.suggested_filename.endswith(".yaml")


def test_upload_a_scenario_file(page, server) -> None:
    page.goto(server + "/")
    page.locator("h1").filter(has_text="Scenario").wait_for()
    _idle(page)
    house = ROOT / "examples" / "house_purchase.json"
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(house))
    page.get_by_text("from house_purchase.json").wait_for()
    _no_exception(page, "upload")
    _nav(page, "Win-win packages")
    _no_exception(page, "win-win after upload")
    _shot(page, "upload_winwin")


def test_learn_preferences_by_comparing_packages(page, server) -> None:
    """Scenario page, Preferences tab: answer one question; the answer is counted and the weights
    table (low / likely / high) is shown; then learn the other side's ranges from its offers."""
    page.goto(server + "/")
    page.locator("h1").filter(has_text="Scenario").wait_for()
    _idle(page)
    # A new visit reopens the last negotiation (the upload above): start the SaaS one afresh.
    page.get_by_role("button", name="Load example").click()
    _idle(page)
    page.get_by_role("tab", name="Preferences").click()
    _idle(page)
    page.get_by_text("Which would Northwind Ops rather have?").wait_for()
    _shot(page, "learn_1_question")
    page.get_by_role("button", name="Package A", exact=True).click()
    _idle(page)
    page.get_by_text("1 answer(s) / statement(s) so far.").wait_for()
    page.get_by_text("Weights forming").wait_for()
    _no_exception(page, "after an answer")
    _shot(page, "learn_2_answered")
    page.get_by_role("button", name="I've had enough").click()
    _idle(page)
    page.get_by_text("Northwind Ops's weights and values are now the estimated ranges.").wait_for()
    _no_exception(page, "kept")
    page.get_by_text("Learn from their offers").click()
    _idle(page)
    _no_exception(page, "offers")
    _shot(page, "learn_3_offers")


def test_proposal_draft_edited_and_pdf_rendered(page, server) -> None:
    """Proposals: edit the draft, download the PDF and the Word file, render the PDF's pages
    with pdftoppm into the artifacts (to look at), and check the edit reached the files."""
    import io
    import shutil

    import docx
    import pypdf

    page.goto(server + "/proposals")
    page.locator("h1").filter(has_text="Proposals").wait_for()
    _no_exception(page, "proposals")
    area = page.get_by_label("Draft (edit it here: the downloads use your edited text)")
    area.wait_for()
    text = area.input_value()
    assert text.startswith("# Proposal:") and "one package" in text
    area.fill(text.replace("## Next steps", "## Next steps\n\nCall us on Monday to agree."))
    page.keyboard.press("Control+Enter")
    _idle(page)
    page.get_by_text("Call us on Monday to agree.").first.wait_for()
    _shot(page, "proposals_draft_edited")
    files = {}
    for label, name in (("Download PDF", "proposal.pdf"), ("Download Word (.docx)", "p.docx")):
        with page.expect_download() as info:
            page.get_by_role("button", name=label).click()
        dst = ARTIFACTS / name
        info.value.save_as(str(dst))
        files[name] = dst.read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(files["proposal.pdf"]))
    pdf_text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))
    assert "Call us on Monday to agree." in pdf_text
    props = docx.Document(io.BytesIO(files["p.docx"])).core_properties
    assert props.author == "Northwind Ops" and "python-docx" not in props.last_modified_by
    if shutil.which("pdftoppm") is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("pdftoppm (poppler-utils) is missing")
        pytest.skip("pdftoppm is not installed")
    for old in ARTIFACTS.glob("proposal_pdf-*.png"):
        old.unlink()
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            str(ARTIFACTS / "proposal.pdf"),
            str(ARTIFACTS / "proposal_pdf"),
        ],
        check=True,
        timeout=120,
    )
    pages = sorted(ARTIFACTS.glob("proposal_pdf-*.png"))
    assert len(pages) == len(reader.pages) >= 1
    from PIL import Image

    first = Image.open(pages[0]).convert("L")
    lo, hi = first.getextrema()
    assert hi - lo > 100, "the first page is blank"


def test_spreadsheets_in_and_out(page, server, tmp_path: Path) -> None:
    """Upload an .xlsx scenario, download it back as Excel, the template and the results."""
    from openpyxl import load_workbook

    from optimizer import Scenario
    from optimizer.scenario.files import dumps_scenario
    from optimizer.scenario.workbook import scenario_to_xlsx, xlsx_to_scenario

    solar = Scenario.load(ROOT / "examples" / "solar_bid.yaml")
    book = tmp_path / "solar.xlsx"
    book.write_bytes(scenario_to_xlsx(solar))
    page.goto(server + "/")
    page.locator("h1").filter(has_text="Scenario").wait_for()
    _idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(book))
    page.get_by_text("from solar.xlsx").wait_for()
    _no_exception(page, "xlsx upload")
    _shot(page, "xlsx_upload")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download scenario (Excel)").click()
    got = tmp_path / dl.value.suggested_filename
    dl.value.save_as(got)
    assert got.suffix == ".xlsx"
    back, _ = xlsx_to_scenario(got.read_bytes())
    assert dumps_scenario(back) == dumps_scenario(solar)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download blank template (Excel)").click()
    dl.value.save_as(tmp_path / "template.xlsx")
    assert "How to fill in" in load_workbook(tmp_path / "template.xlsx").sheetnames
    page.get_by_role("button", name="Download blank template (Excel)").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "xlsx_downloads.png"))
    _nav(page, "Win-win packages")
    _no_exception(page, "win-win after xlsx upload")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download Excel").click()
    dl.value.save_as(tmp_path / "winwin.xlsx")
    rows = list(load_workbook(tmp_path / "winwin.xlsx")["Win-win packages"].values)
    assert rows[1][0] == "on the table" and rows[2][0] == 1
    page.get_by_role("button", name="Download Excel").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "winwin_downloads.png"))
    _nav(page, "Trade-off map")
    _no_exception(page, "trade-off map after xlsx upload")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    dl.value.save_as(tmp_path / "frontier.csv")
    assert (tmp_path / "frontier.csv").read_text().startswith("package,")
    page.get_by_role("button", name="Download CSV").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "frontier_downloads.png"))
