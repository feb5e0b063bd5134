"""How fast each page of the real app is ready, on every example, first visit included.

``.venv/bin/python benchmarks/bench_app.py [--examples a,b] [--repeat 1]`` starts
``streamlit run ui/app.py`` (its own empty workspace, worker processes as in ``make app``),
drives Debian's Chromium with Playwright and, per example: loads it, makes one edit (a weight typed
on the Preferences tab, so every result must be computed again), then opens every page from the
sidebar and measures, from the click:

* **ready** -- the page is drawn and usable: its title is shown and the script run has finished
  (parts still computing show a "Working out ..." note and fill in by themselves);
* **complete** -- every part is drawn (no "Working out ..." note left).

Nothing is asserted; the table (markdown, for benchmarks/README.md) says whether each page met
the 1 s goal for "ready".
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
GOAL_S = 1.0
RUNNING_JS = """() => {
    const w = document.querySelector('[data-testid="stStatusWidget"]');
    return !w || !/running/i.test(w.innerText);
}"""
PENDING_JS = """() => !Array.from(document.querySelectorAll('[data-testid="stAlert"]'))
    .some(a => /Working out/.test(a.innerText))"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workspace: Path) -> subprocess.Popen:
    """The app as ``make app`` runs it (repository root, .streamlit/config.toml), on ``port``."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "ui/app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env={**os.environ, "DEALOPT_WORKSPACE": str(workspace), "DEALOPT_UI_WORKERS": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not start within 90 s")


def _settle(page: Page) -> None:
    page.wait_for_timeout(150)
    page.wait_for_function(RUNNING_JS, timeout=120_000, polling=50)


def _timed_visit(page: Page, title: str) -> tuple[float, float]:
    """(ready, complete) seconds from the sidebar click."""
    t0 = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.locator("h1").filter(has_text=title).first.wait_for(timeout=120_000)
    # The run has started when the status widget shows it; wait for it to end.
    page.wait_for_function(RUNNING_JS, timeout=120_000, polling=50)
    ready = time.perf_counter() - t0
    page.wait_for_function(PENDING_JS, timeout=300_000, polling=100)
    _settle(page)
    complete = time.perf_counter() - t0
    return ready, complete


def _load(page: Page, example: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Scenario").click()
    page.locator("h1").filter(has_text="Scenario").first.wait_for()
    _settle(page)
    box = page.get_by_role("combobox", name=re.compile("Start from an example"))
    box.click()
    page.get_by_role("option").filter(has_text=f"({example}.").first.click()
    _settle(page)
    page.get_by_role("button", name="Load example").click()
    _settle(page)


def _edit(page: Page) -> None:
    """Type a new weight for our first issue (every result depends on it)."""
    page.get_by_role("tab", name="Preferences").click()
    _settle(page)
    field = page.get_by_label(re.compile(r"^Weight of ")).first
    old = field.input_value()
    field.fill(str((float(old or 1) or 1) + 3).removesuffix(".0"))
    field.press("Enter")
    _settle(page)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", default="", help="comma-separated example names (default all)")
    args = ap.parse_args()
    examples = sorted(
        p.stem for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".yml", ".json")
    )
    if args.examples:
        examples = [e for e in examples if e in args.examples.split(",")]
    port = _free_port()
    proc = start_server(port, Path(tempfile.mkdtemp()) / "workspace.sqlite")
    rows = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("h1").filter(has_text="Scenario").wait_for()
            _settle(page)
            titles = [
                re.sub(r"^\S+\n", "", t).strip()
                for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
            ]
            for example in examples:
                _load(page, example)
                _edit(page)
                for title in [*titles[1:], titles[0]]:
                    ready, complete = _timed_visit(page, title)
                    rows.append((example, title, ready, complete))
                    print(
                        f"{example:24} {title:20} ready {ready:5.2f} s  complete {complete:6.2f} s",
                        flush=True,
                    )
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print()
    print("| example | page | ready (s) | complete (s) | ready < 1 s |")
    print("|---|---|---|---|---|")
    for example, title, ready, complete in rows:
        ok = "yes" if ready < GOAL_S else "no"
        print(f"| {example} | {title} | {ready:.2f} | {complete:.2f} | {ok} |")
    met = sum(r[2] < GOAL_S for r in rows)
    print(
        f"\n{met} of {len(rows)} page visits ready within {GOAL_S:g} s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
