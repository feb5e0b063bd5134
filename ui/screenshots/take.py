"""Take the README screenshots: ``.venv/bin/python ui/screenshots/take.py``.

Starts ``streamlit run ui/app.py`` on the SaaS renewal example (a free loopback port), drives
Debian's Chromium with Playwright and writes ``tradeoff_map.png`` and ``winwin_table.png`` next to
this file.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, scenario: str = "examples/saas_renewal.yaml") -> subprocess.Popen:
    """``streamlit run ui/app.py`` in the background; returns once it answers."""
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
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DEALOPT_SCENARIO": scenario,
            # a workspace of its own: screenshots never touch the user's negotiations
            "DEALOPT_WORKSPACE": str(Path(tempfile.mkdtemp()) / "workspace.sqlite"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not start within 60 s")


def idle(page: Page) -> None:
    """Wait until the app has finished its script run."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        """() => {
            const w = document.querySelector('[data-testid="stStatusWidget"]');
            return !w || !/running/i.test(w.innerText);
        }"""
    )
    page.wait_for_timeout(800)


def nav(page: Page, title: str) -> None:
    """Open a page through the sidebar."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.locator("h1").filter(has_text=title).first.wait_for()
    idle(page)


def take(base: str, out: Path = HERE) -> list[Path]:
    """Write the two README screenshots; returns their paths."""
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        page.set_default_timeout(60_000)
        page.goto(base + "/")
        page.locator("h1").filter(has_text="Scenario").wait_for()
        idle(page)

        nav(page, "Win-win packages")
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        idle(page)
        main = page.locator('[data-testid="stMainBlockContainer"]')
        box = main.bounding_box()
        grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
        assert box is not None and grid is not None
        clip = {
            "x": box["x"] + 2,
            "y": box["y"] + 40,
            "width": box["width"] - 4,
            "height": grid["y"] + grid["height"] + 40 - box["y"] - 40,
        }
        path = out / "winwin_table.png"
        page.screenshot(path=str(path), clip=clip)
        written.append(path)

        nav(page, "Trade-off map")
        page.locator(".js-plotly-plot").wait_for()
        idle(page)
        chart = page.locator(".js-plotly-plot").first
        cbox = chart.bounding_box()
        assert cbox is not None
        clip = {
            "x": box["x"] + 2,
            "y": box["y"] + 40,
            "width": box["width"] - 4,
            "height": cbox["y"] + cbox["height"] + 10 - box["y"] - 40,
        }
        path = out / "tradeoff_map.png"
        page.screenshot(path=str(path), clip=clip)
        written.append(path)
        browser.close()
    return written


def main() -> None:
    port = free_port()
    proc = start_server(port)
    try:
        for path in take(f"http://127.0.0.1:{port}"):
            print(path.relative_to(ROOT))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
