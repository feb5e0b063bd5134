"""Speed benchmarks of issue 16 (``make bench``): start-up, many parties, robust search, improve.

Prints four tables; asserts nothing. Each row has its comparison measured in the same run:

1. **start-up**: the whole ``python -m optimizer frontier FILE --json`` process on a 10-issue x
   5-option scenario against a bare ``python -c "import numpy"`` (best of ``--repeat`` runs, wall
   and CPU time of the child).
2. **many parties**: the exact frontier of 4-6 parties on 12 issues x 5 options (the CLI process),
   and the non-dominated filter of the last per-issue merge by the divide-and-conquer filter
   against the previous pairwise filter (copied below), on the same points.
3. **robust search**: ``robust_improve`` (alpha 0.8, 10,000 samples, 10,000 out-of-sample) on every
   example, against scoring every feasible package (the previous automatic method, exact) where
   that fits in memory; the MILP (the previous method above 10,000 packages) is not re-run: over
   400 s on solar_bid at 10,000 samples in development.
4. **improve at scale**: ``improve --top 5`` on 200 issues x 10 options with 50 cross-issue rules.

Usage: ``python benchmarks/bench_speed.py [--repeat 5] [--skip-six]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_frontier import random_scenario  # noqa: E402


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def run(cmd: list[str], timeout: float = 600) -> tuple[float, float, str, int]:
    """(wall seconds, child CPU seconds, stdout, exit code) of one process."""
    before = os.times()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu, done.stdout, done.returncode


def best(cmd: list[str], repeat: int) -> tuple[float, float, str]:
    walls, cpus, out = [], [], ""
    for _ in range(repeat):
        wall, cpu, out, code = run(cmd)
        if code not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed (exit {code})")
        walls.append(wall)
        cpus.append(cpu)
    return min(walls), min(cpus), out


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def startup(tmp: Path, repeat: int) -> None:
    py = sys.executable
    f = tmp / "10x5.json"
    f.write_text(json.dumps(random_scenario(10, 10, 5)), encoding="utf-8")
    bare_w, bare_c, _ = best([py, "-c", "import numpy"], repeat)
    rows = []
    for name, cmd in [
        ("frontier 10x5 --json", [py, "-m", "optimizer", "frontier", str(f), "--json"]),
        ("validate 10x5", [py, "-m", "optimizer", "validate", str(f)]),
    ]:
        w, c, _ = best(cmd, repeat)
        rows.append(
            [
                name,
                f"{w:.3f} / {c:.3f}",
                f"{bare_w:.3f} / {bare_c:.3f}",
                f"{w - bare_w:+.3f} / {c - bare_c:+.3f}",
                "< 0.15 s wall",
            ]
        )
    print(f"### Start-up (best of {repeat}; load average {load()})\n")
    print(
        table(
            ["command", "ours wall / CPU (s)", "python + numpy", "ours - numpy", "target"],
            rows,
        )
    )
    print()


# --------------------------------------------------------------------------------------------


def previous_pairwise(U: np.ndarray, tol: float = 1e-9, chunk_cells: int = 4_000_000) -> np.ndarray:
    """The filter before issue 16 (pairwise against every row still alive, in chunks)."""
    n, m = U.shape
    order = np.argsort(-U.sum(axis=1), kind="stable")
    V = U[order]
    alive = np.ones(n, dtype=bool)
    step = max(1, chunk_cells // max(1, n * m))
    for s in range(0, n, step):
        X = V[s : s + step]
        Y = V[np.flatnonzero(alive)]
        ge = np.all(Y[None, :, :] >= X[:, None, :] - tol, axis=2)
        gt = np.any(Y[None, :, :] > X[:, None, :] + tol, axis=2)
        alive[s : s + step] &= ~np.any(ge & gt, axis=1)
    out = np.empty(n, dtype=bool)
    out[order] = alive
    return out


def last_merge_candidates(path: Path) -> np.ndarray:
    """The candidate points of the last per-issue merge of the scenario's frontier."""
    from optimizer.engine.fastpath import nondominated
    from optimizer.scenario.files import load_scenario
    from optimizer.scenario.utility import UtilityTables

    s = load_scenario(path)
    t = UtilityTables.build(s)
    P = len(s.parties)
    S = np.zeros((1, P))
    cand = S
    for k in range(len(s.issues)):
        table_k = np.stack([t.tables[p][k] for p in range(P)], axis=1)
        cand = (S[:, None, :] + table_k[None, :, :]).reshape(-1, P)
        S = cand[nondominated(cand)] if k < len(s.issues) - 1 else S
    return cand


def many_parties(tmp: Path, skip_six: bool) -> None:
    from optimizer.engine.fastpath import _not_dominated_nd

    py = sys.executable
    rows = []
    for P in (4, 5) if skip_six else (4, 5, 6):
        f = tmp / f"p{P}.json"
        f.write_text(json.dumps(random_scenario(3, 12, 5, n_parties=P)), encoding="utf-8")
        w, c, out, code = run([py, "-m", "optimizer", "frontier", str(f), "--json"], timeout=900)
        res = json.loads(out) if out.strip() else {}
        cand = last_merge_candidates(f)
        t0 = time.perf_counter()
        new = _not_dominated_nd(cand, 1e-9)
        t_new = time.perf_counter() - t0
        if len(cand) <= 25_000:
            t0 = time.perf_counter()
            old = previous_pairwise(cand)
            t_old = f"{time.perf_counter() - t0:.2f}"
            same = "yes" if np.array_equal(old, new) else "NO"
        else:
            t_old, same = "not run (quadratic)", "-"
        rows.append(
            [
                f"{P} parties, 12x5",
                f"{w:.2f}",
                str(len(res.get("packages", []))),
                str(res.get("method", f"exit {code}")),
                str(res.get("exact", "-")),
                f"{len(cand):,}",
                f"{t_new:.2f}",
                t_old,
                same,
                "exact < 10 s",
            ]
        )
    print(f"### Many parties (load average {load()})\n")
    print(
        table(
            [
                "case",
                "CLI (s)",
                "frontier",
                "method",
                "exact",
                "last merge points",
                "D&C filter (s)",
                "previous filter (s)",
                "same",
                "target",
            ],
            rows,
        )
    )
    print()


# --------------------------------------------------------------------------------------------


def robust() -> None:
    from optimizer.scenario.files import load_scenario
    from optimizer.searches.robust import _by_enumeration, _feasible_packages, robust_improve
    from optimizer.searches.sampling import sample

    n = 10_000
    rows = []
    for f in sorted((ROOT / "examples").glob("*.y*ml")) + sorted(
        (ROOT / "examples").glob("*.json")
    ):
        s = load_scenario(f)
        t0 = time.perf_counter()
        r = robust_improve(s, 0.8, samples=n, check_samples=n)
        t_new = time.perf_counter() - t0
        best_gain = [p for p in r.packages if "best gain" in p.extra["role"]]
        got = (
            f"{best_gain[0].extra['in_sample']['win_win']} / {best_gain[0].objective:.2f}"
            if best_gain
            else "none"
        )
        X = _feasible_packages(s, n)
        if X is not None and len(X) <= 10_000:
            t0 = time.perf_counter()
            draws = sample(s, n, seed=0)
            found = _by_enumeration(s, draws, X, 8000, 1)
            t_old = time.perf_counter() - t0
            mean_us = draws.utilities(found[0][0][None, :])[:, 0, s.party_names.index(s.us_name)]
            from optimizer.searches.sampling import reference_utilities

            ref = reference_utilities(s, draws)[:, s.party_names.index(s.us_name)]
            prev = f"{found[0][1]} / {float((mean_us - ref).mean()):.2f}"
            if "best gain" not in found[0][2]:
                prev = "none"
            old = f"{t_old:.2f} ({len(X)} packages)"
        else:
            prev, old = "-", "MILP (not re-run)"
        rows.append(
            [
                f.name,
                f"{t_new:.2f}",
                str(r.method),
                str(r.exact_over),
                got,
                old,
                prev,
                "< 2 s",
            ]
        )
    print(f"### Robust search, 10,000 samples, alpha 0.8 (load average {load()})\n")
    print(
        table(
            [
                "example",
                "ours (s)",
                "method",
                "exact over",
                "best gain: win-win / mean gain",
                "all feasible scored (s)",
                "its best gain",
                "target",
            ],
            rows,
        )
    )
    print()


def improve_at_scale(tmp: Path) -> None:
    py = sys.executable
    f = tmp / "200x10.json"
    f.write_text(json.dumps(random_scenario(5, 200, 10, 50, with_reference=True)), encoding="utf-8")
    w, c, out, code = run([py, "-m", "optimizer", "improve", str(f), "--top", "5", "--json"])
    res = json.loads(out) if out.strip() else {}
    print(f"### improve at scale (load average {load()})\n")
    print(
        table(
            ["case", "CLI (s)", "packages", "exact", "target"],
            [
                [
                    "improve --top 5, 200x10 + 50 rules",
                    f"{w:.2f}",
                    str(len(res.get("packages", []))),
                    str(res.get("exact", f"exit {code}")),
                    "< 5 s",
                ]
            ],
        )
    )
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per start-up row (best kept)")
    ap.add_argument("--skip-six", action="store_true", help="skip the 6-party row (the slowest)")
    ap.add_argument(
        "--only", choices=["startup", "parties", "robust", "improve"], help="one table only"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dealopt-bench-speed-"))
    if args.only in (None, "startup"):
        startup(tmp, args.repeat)
    if args.only in (None, "parties"):
        many_parties(tmp, args.skip_six)
    if args.only in (None, "robust"):
        robust()
    if args.only in (None, "improve"):
        improve_at_scale(tmp)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
