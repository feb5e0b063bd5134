"""The README's scenario example is valid and its Python snippet runs (docs that cannot rot)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from optimizer.scenario.files import loads_scenario

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", README, flags=re.S)
    assert match, f"README has no {lang} block"
    return match.group(1)


def test_readme_scenario_is_valid_and_has_a_win_win() -> None:
    from optimizer import improve

    s = loads_scenario(_block("yaml"), source="README.md")
    assert s.summary_line() == "3 issues, 2 parties, 1 agreed, 1 provisional, 1 open"
    assert improve(s).packages


def test_readme_python_snippet_runs(tmp_path: Path) -> None:
    code = _block("python").replace("my_renewal.yaml", str(tmp_path / "my_renewal.yaml"))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "my_renewal.yaml").exists()
    assert '"exact": true' in out.stdout
