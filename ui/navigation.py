"""Page discovery for ``ui/app.py``: every ``ui/screens/*.py`` file is a page (see app.py)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent / "screens"
DEFAULT_ORDER = 100


@dataclass(frozen=True)
class PageSpec:
    """A page file and its declared order, title and icon."""

    path: Path
    order: float
    title: str
    icon: str | None


def _constants(path: Path) -> dict[str, object]:
    """Module-level ``PAGE_*`` constants of a page file, read without running it."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return {}
    out: dict[str, object] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for t in targets:
            if isinstance(t, ast.Name) and t.id.startswith("PAGE_"):
                try:
                    out[t.id] = ast.literal_eval(value)
                except ValueError:
                    pass
    return out


def discover_pages(pages_dir: Path = PAGES_DIR) -> list[PageSpec]:
    """Every page file in ``pages_dir``, sorted by PAGE_ORDER (or numeric prefix), then name."""
    specs = []
    for path in sorted(pages_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        consts = _constants(path)
        prefix = re.match(r"^(\d+)[_\- ]*(.*)$", path.stem)
        stem = prefix.group(2) if prefix else path.stem
        order = consts.get("PAGE_ORDER")
        if not isinstance(order, int | float):
            order = int(prefix.group(1)) if prefix else DEFAULT_ORDER
        title = consts.get("PAGE_TITLE")
        if not isinstance(title, str) or not title.strip():
            title = stem.replace("_", " ").strip().capitalize() or path.stem
        icon = consts.get("PAGE_ICON")
        specs.append(PageSpec(path, float(order), title, icon if isinstance(icon, str) else None))
    specs.sort(key=lambda s: (s.order, s.path.name))
    return specs
