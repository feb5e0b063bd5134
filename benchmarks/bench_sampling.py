"""Benchmark: sampling the estimate ranges (draw + per-sample tables + package statistics).

Builds 10-issue scenarios (2 and 3 parties, categorical and numeric issues, every other-side
weight, option score and walk-away point a range), takes their top packages and times
``sample`` + ``package_stats`` (what ``annotate`` does) for several sample and package counts.
Prints a table; the median of ``--repeat`` runs is reported. A second table times the robust search
(``robust_improve``, alpha 0.8) on the examples with ranges, by the sample-average MILP and by
enumeration of the feasible packages (the two must agree on our expected gain).

    .venv/bin/python benchmarks/bench_sampling.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from optimizer.scenario.models import Scenario
from optimizer.searches.sampling import package_stats, sample


def ten_issue_scenario(n_parties: int = 2, seed: int = 0) -> Scenario:
    """A 10-issue scenario: 7 categorical (4-6 options), 3 numeric; the others' estimates are ranges."""
    rng = np.random.default_rng(seed)
    issues = []
    for k in range(7):
        opts = [f"o{k}_{i}" for i in range(int(rng.integers(4, 7)))]
        issues.append({"name": f"issue {k}", "options": opts, "value": opts[0]})
    for k in range(7, 10):
        issues.append({"name": f"issue {k}", "min": 0, "max": 20, "step": 1, "value": 10})
    parties = []
    for p in range(n_parties):
        weights, values = {}, {}
        for k, issue in enumerate(issues):
            w = float(rng.integers(1, 20))
            weights[issue["name"]] = w if p == 0 else [w * 0.5, w, w * 1.5]
            if "options" in issue:
                scores = {}
                for o in issue["options"]:
                    x = float(rng.integers(0, 100))
                    scores[o] = x if p == 0 else [max(0.0, x - 20), x, x + 20]
                values[issue["name"]] = scores
            else:
                values[issue["name"]] = {"shape": "increasing" if (p + k) % 2 else "decreasing"}
        parties.append(
            {
                "name": "us" if p == 0 else f"them {p}",
                "reservation_value": 30 if p == 0 else [20, 30, 40],
                "preferences": {"weights": weights, "values": values},
            }
        )
    return Scenario.from_dict({"name": "bench", "parties": parties, "issues": issues})


def top_packages(scenario: Scenario, m: int, seed: int = 1) -> np.ndarray:
    """The ``m`` packages with the best sum of point-estimate utilities among 20,000 random ones."""
    rng = np.random.default_rng(seed)
    X = np.stack([rng.integers(0, i.size, 20000) for i in scenario.issues], axis=1)
    welfare = scenario.utilities(X).sum(axis=1)
    return X[np.argsort(-welfare)[:m]]


def time_once(scenario: Scenario, X: np.ndarray, n: int, distribution: str) -> float:
    t0 = time.perf_counter()
    samples = sample(scenario, n, seed=0, distribution=distribution)  # type: ignore[arg-type]
    package_stats(scenario, X, samples)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(
        f"{'parties':>7} {'issues':>6} {'estimates':>9} {'packages':>8} {'samples':>8} "
        f"{'dist':>10} {'median s':>9} {'us/sample':>9}"
    )
    from optimizer.searches.sampling import uncertain_parameters

    for n_parties in (2, 3):
        s = ten_issue_scenario(n_parties)
        n_unc = len(uncertain_parameters(s))
        for m in (10, 50):
            X = top_packages(s, m)
            for n in (1000, 10000, 50000):
                for dist in ("triangular", "pert"):
                    if dist == "pert" and n != 10000:
                        continue
                    times = [time_once(s, X, n, dist) for _ in range(args.repeat)]
                    med = statistics.median(times)
                    print(
                        f"{n_parties:>7} {len(s.issues):>6} {n_unc:>9} {m:>8} {n:>8} "
                        f"{dist:>10} {med:>9.4f} {1e6 * med / n:>9.2f}"
                    )


def robust_table() -> None:
    from pathlib import Path

    from optimizer.searches.robust import robust_improve

    root = Path(__file__).resolve().parents[1] / "examples"
    print(f"\n{'example':<18} {'samples':>7} {'method':>9} {'seconds':>8} {'solves':>6}  gains")
    for name in ("saas_renewal.yaml", "leather_reorder.yaml"):
        s = Scenario.load(root / name)
        for n in (100, 200):
            gains = {}
            for method in ("milp", "enumerate"):
                t0 = time.perf_counter()
                r = robust_improve(s, 0.8, samples=n, method=method, check_samples=1000)
                sec = time.perf_counter() - t0
                gains[method] = [round(p.objective or 0.0, 6) for p in r.packages]
                print(
                    f"{name[:-5]:<18} {n:>7} {method:>9} {sec:>8.3f} {r.status.solves:>6}  "
                    f"{gains[method]}"
                )
            if gains["milp"] != gains["enumerate"]:
                print("  MISMATCH between the MILP and enumeration")


if __name__ == "__main__":
    main()
    robust_table()
