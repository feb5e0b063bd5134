"""Benchmark: preferences fitted to statements and offers (``optimizer.searches.estimate``).

Three tables, printed as markdown:

1. **Speed**: ``estimate`` (weights and every option value's range) and ``next_question`` on a
   30-issue x 10-option scenario with 50 statements a hidden utility makes (median of 3 runs).
2. **Opponent model from offers**: GENIUS-style linear-additive domains, written as GENIUS XML and
   read with ``import_genius``; two time-based conceding agents (Boulware e=0.2 against Conceder
   e=2, both ways round) alternate offers for up to 30 rounds each; the offering side picks at
   random among the packages within 0.05 above its target, and accepts an offer at or above its
   next target. From the log we estimate the other side's utility and compare it with the truth
   over every package (Pearson). Baselines on the same traces: equal weights with frequency-count
   values, and the frequency model of GENIUS agents (HardHeaded: an issue whose value stays the
   same between consecutive offers gains 0.2 weight; option values are counts / largest count).
3. **Elicitation**: the same domains, our side: the options' order per issue is given (a person
   knows which warranty they prefer), then 10 comparisons answered from the true utility ("about
   equal" when within 2 points), chosen by ``next_question`` or at random (two random options on
   two random issues); Pearson of the fitted utility with the truth over every package.

    .venv/bin/python benchmarks/bench_estimate.py [--domains 8] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from optimizer.scenario.genius import import_genius
from optimizer.scenario.models import Scenario
from optimizer.searches.estimate import EQUAL_TOL, add_statement, estimate, next_question

# ------------------------------------------------------------------------------------ domains


def write_genius(folder: Path, sizes: list[int], seed: int) -> tuple[Path, list[Path]]:
    """A random GENIUS domain (issues with ``sizes`` options) and two profiles (A, B)."""
    rng = np.random.default_rng(seed)
    names = [f"issue{k}" for k in range(len(sizes))]
    dom = ['<?xml version="1.0" encoding="UTF-8"?>', "<negotiation_template>", "<utility_space>"]
    dom.append('<objective index="0" etype="objective" type="objective" name="domain">')
    for k, n in enumerate(sizes):
        dom.append(f'<issue index="{k + 1}" etype="discrete" type="discrete" name="{names[k]}">')
        dom += [f'<item index="{i + 1}" value="v{k}_{i}"/>' for i in range(n)]
        dom.append("</issue>")
    dom += ["</objective>", "</utility_space>", "</negotiation_template>"]
    domain = folder / f"domain{seed}.xml"
    domain.write_text("\n".join(dom))
    profiles = []
    for who in ("A", "B"):
        w = np.round(rng.dirichlet(np.ones(len(sizes)) * 1.5), 6)
        w[-1] = round(1 - w[:-1].sum(), 6)  # GENIUS wants them to sum to 1 exactly
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<utility_space>"]
        lines.append('<objective index="0" etype="objective" type="objective" name="domain">')
        for k, n in enumerate(sizes):
            ev = rng.permutation(np.arange(1, n + 1)) * rng.uniform(0.6, 1.4, n)
            lines.append(
                f'<issue index="{k + 1}" etype="discrete" type="discrete" name="{names[k]}">'
            )
            lines += [
                f'<item index="{i + 1}" value="v{k}_{i}" evaluation="{ev[i]:.4f}"/>'
                for i in range(n)
            ]
            lines.append("</issue>")
            lines.append(f'<weight index="{k + 1}" value="{w[k]:.6f}"/>')
        lines += ["</objective>", "</utility_space>"]
        path = folder / f"{who}.xml"
        path.write_text("\n".join(lines))
        profiles.append(path)
    return domain, profiles


def all_packages(s: Scenario) -> np.ndarray:
    return np.array(list(itertools.product(*[range(i.size) for i in s.issues])), dtype=np.int64)


def flat(s: Scenario, party: str) -> Scenario:
    """The scenario with ``party``'s preferences unknown (equal weights, equal values)."""
    data = s.to_dict()
    for pd in data["parties"]:
        if pd["name"] == party:
            pd["preferences"] = {
                "weights": {i.name: 1 for i in s.issues},
                "values": {i.name: dict.fromkeys(i.options, 1) for i in s.issues},
            }
    return Scenario.from_dict(data)


# ------------------------------------------------------------------------------------ agents


def negotiate(s: Scenario, first: str, e: dict[str, float], rng, rounds: int = 30) -> list[dict]:
    """Alternating offers between two time-based conceding agents; returns the log."""
    P = all_packages(s)
    U = s.utilities(P)
    names = s.party_names
    norm = {}
    for j, n in enumerate(names):
        lo, hi = U[:, j].min(), U[:, j].max()
        norm[n] = (U[:, j] - lo) / (hi - lo)
    order = [first, next(n for n in names if n != first)]
    log: list[dict] = []
    day = dt.date(2025, 1, 1)
    last: int | None = None
    for t in range(2 * rounds):
        who = order[t % 2]
        frac = (t // 2) / max(1, rounds - 1)
        target = 1 - (1 - 0.2) * frac ** (1 / e[who])
        if last is not None and norm[who][last] >= target:
            break  # accepts the offer on the table
        ok = np.flatnonzero((norm[who] >= target) & (norm[who] <= target + 0.05))
        if not len(ok):
            above = np.flatnonzero(norm[who] >= target)
            ok = above[[np.argmin(norm[who][above])]]
        pick = int(rng.choice(ok))
        log.append(
            {
                "date": (day + dt.timedelta(days=t)).isoformat(),
                "by": who,
                "package": s.decode(P[pick]),
            }
        )
        last = pick
    return log


def frequency_model(s: Scenario, log: list[dict], party: str, learn_weights: bool) -> np.ndarray:
    """HardHeaded's frequency opponent model: the utility of every package (grid positions)."""
    n = len(s.issues)
    w = np.ones(n) / n
    counts = [np.ones(i.size) for i in s.issues]
    prev = None
    for o in log:
        if o["by"] != party:
            continue
        idx = s.encode(o["package"])
        for k in range(n):
            counts[k][idx[k]] += 1
        if prev is not None and learn_weights:
            same = idx == prev
            w = w + 0.2 * same
            w = w / w.sum()
        prev = idx
    P = all_packages(s)
    vals = [c / c.max() for c in counts]
    return sum(w[k] * vals[k][P[:, k]] for k in range(n))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() < 1e-12 or b.std() < 1e-12:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


# ------------------------------------------------------------------------------------ tables


def speed_table(repeat: int = 3) -> list[str]:
    rng = np.random.default_rng(7)
    issues = [{"name": f"i{k}", "options": [f"o{k}_{j}" for j in range(10)]} for k in range(30)]
    w = rng.dirichlet(np.ones(30))
    v = rng.uniform(0, 1, (30, 10))
    statements = []
    while len(statements) < 50:
        ks = rng.choice(30, 2, replace=False)
        a = {f"i{k}": f"o{k}_{int(rng.integers(10))}" for k in ks}
        b = {f"i{k}": f"o{k}_{int(rng.integers(10))}" for k in ks}
        ua = sum(w[int(k)] * v[int(k), int(a[f"i{k}"].split("_")[1])] for k in ks)
        ub = sum(w[int(k)] * v[int(k), int(b[f"i{k}"].split("_")[1])] for k in ks)
        if abs(ua - ub) < 0.005 or a == b:
            continue
        statements.append({"prefers": a, "over": b} if ua > ub else {"prefers": b, "over": a})
    prefs = {"weights": {i["name"]: 1 for i in issues}}
    s = Scenario.from_dict(
        {
            "name": "speed",
            "parties": [
                {"name": "Us", "preferences": prefs, "statements": statements},
                {"name": "Them", "preferences": prefs},
            ],
            "issues": issues,
        }
    )
    times_fit, times_q, times_w, cpu_fit = [], [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        est = estimate(s, "Us")
        times_fit.append(time.perf_counter() - t0)
        cpu_fit.append(time.process_time() - c0)
        t0 = time.perf_counter()
        next_question(s, "Us", est=est)
        times_q.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        estimate(s, "Us", values=False)
        times_w.append(time.perf_counter() - t0)
    rows = [
        "| step | size | median s (of 3) | CPU s | target | met (wall / CPU) |",
        "|---|---|---|---|---|---|",
        f"| estimate: weights + every option's range | 30 issues x 10 options, 50 statements | "
        f"{statistics.median(times_fit):.2f} | {statistics.median(cpu_fit):.2f} | < 1 s | "
        f"{'yes' if statistics.median(times_fit) < 1 else 'no'} / "
        f"{'yes' if statistics.median(cpu_fit) < 1 else 'no'} |",
        f"| estimate: weights only (`values=False`) | same | {statistics.median(times_w):.2f} | | - | - |",
        f"| next_question (given the fit) | same | {statistics.median(times_q):.2f} | | - | - |",
    ]
    return rows


def opponent_table(domains: list[list[int]], folder: Path) -> list[str]:
    rows = [
        "| domain | traces | offers by B (mean) | ours (LP) | frequency (HardHeaded) | equal weights | ours > frequency |",
        "|---|---|---|---|---|---|---|",
    ]
    all_ours, all_freq, all_eq = [], [], []
    for seed, sizes in enumerate(domains):
        domain, profiles = write_genius(folder, sizes, seed)
        s = import_genius(domain, profiles)
        a_name, b_name = s.party_names
        P = all_packages(s)
        truth = s.utilities(P)[:, 1]
        ours, freq, eq, n_off = [], [], [], []
        rng = np.random.default_rng(100 + seed)
        for first, e in (
            (a_name, {a_name: 0.2, b_name: 2.0}),
            (b_name, {a_name: 2.0, b_name: 0.2}),
            (a_name, {a_name: 2.0, b_name: 0.2}),
        ):
            log = negotiate(s, first, e, rng)
            n_off.append(sum(o["by"] == b_name for o in log))
            data = flat(s, b_name).to_dict()
            data["history"] = log
            sb = Scenario.from_dict(data)
            est = estimate(sb, b_name)
            ours.append(pearson(est.utility(P), truth))
            freq.append(pearson(frequency_model(s, log, b_name, True), truth))
            eq.append(pearson(frequency_model(s, log, b_name, False), truth))
        all_ours += ours
        all_freq += freq
        all_eq += eq
        label = "x".join(map(str, sizes))
        rows.append(
            f"| {len(sizes)} issues ({label}) | {len(ours)} | {np.mean(n_off):.1f} | "
            f"{np.mean(ours):.3f} | {np.mean(freq):.3f} | {np.mean(eq):.3f} | "
            f"{sum(o > f for o, f in zip(ours, freq, strict=True))}/{len(ours)} |"
        )
    rows.append(
        f"| **mean** | {len(all_ours)} | | **{np.mean(all_ours):.3f}** | {np.mean(all_freq):.3f} | "
        f"{np.mean(all_eq):.3f} | {sum(o > f for o, f in zip(all_ours, all_freq, strict=True))}/{len(all_ours)} |"
    )
    return rows


def _answer(s: Scenario, truth_party: str, a: dict, b: dict, scale: float) -> str:
    ref = s.reference() or {}
    base = {i.name: ref.get(i.name, i.value_at(0)) for i in s.issues}
    ua = s.utility(truth_party, {**base, **a})
    ub = s.utility(truth_party, {**base, **b})
    d = (ua - ub) / scale
    return "equal" if abs(d) <= EQUAL_TOL else "first" if d > 0 else "second"


def elicitation_table(domains: list[list[int]], folder: Path, n_questions: int = 10) -> list[str]:
    rows = [
        "| domain | orders only | 10 by `--next` | 10 random | next > random |",
        "|---|---|---|---|---|",
    ]
    tot_next, tot_rand, tot_none = [], [], []
    for seed, sizes in enumerate(domains):
        domain, profiles = write_genius(folder, sizes, seed)
        s = import_genius(domain, profiles)
        us = s.party_names[0]
        P = all_packages(s)
        truth = s.utilities(P)[:, 0]
        start = flat(s, us)
        for issue in s.issues:  # the person knows their order of options on each issue
            vals = s.party(us).preferences.values[issue.name]
            order = sorted(issue.options, key=lambda o: -float(vals[o]))
            start = add_statement(start, us, {"issue": issue.name, "order": order})
        scale = s.party(us).utility_scale or s.utility_scale
        none = pearson(estimate(start, us).utility(P), truth)
        rng = np.random.default_rng(seed)
        results = {}
        for mode in ("next", "random"):
            cur = start
            for _ in range(n_questions):
                if mode == "next":
                    q = next_question(cur, us)
                    a, b = q.prefers, q.over
                else:
                    ks = rng.choice(len(s.issues), 2, replace=False)
                    a = {
                        s.issues[k].name: s.issues[k].options[int(rng.integers(s.issues[k].size))]
                        for k in ks
                    }
                    b = {
                        s.issues[k].name: s.issues[k].options[int(rng.integers(s.issues[k].size))]
                        for k in ks
                    }
                    if a == b:
                        continue
                ans = _answer(s, us, a, b, scale)
                st = (
                    {"prefers": a, "over": b}
                    if ans == "first"
                    else {"prefers": b, "over": a}
                    if ans == "second"
                    else {"equal": [a, b]}
                )
                cur = add_statement(cur, us, st)
            results[mode] = pearson(estimate(cur, us).utility(P), truth)
        tot_next.append(results["next"])
        tot_rand.append(results["random"])
        tot_none.append(none)
        rows.append(
            f"| {len(sizes)} issues ({'x'.join(map(str, sizes))}) | {none:.3f} | "
            f"{results['next']:.3f} | {results['random']:.3f} | "
            f"{'yes' if results['next'] > results['random'] else 'no'} |"
        )
    rows.append(
        f"| **mean** | {np.mean(tot_none):.3f} | **{np.mean(tot_next):.3f}** | {np.mean(tot_rand):.3f} | "
        f"{sum(a > b for a, b in zip(tot_next, tot_rand, strict=True))}/{len(tot_next)} |"
    )
    return rows


DOMAINS = [
    [4, 3, 5],
    [5, 5, 4, 3],
    [3, 4, 4, 5, 3],
    [5, 5, 5, 5, 5],
    [4, 4, 3, 3, 4, 4],
    [6, 3, 4, 5, 3, 4, 3],
    [3, 3, 4, 4, 3, 3, 4, 4],
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--domains", type=int, default=len(DOMAINS), help="how many domains to run")
    ap.add_argument("--quick", action="store_true", help="speed table only")
    args = ap.parse_args()
    print("## Speed\n")
    print("\n".join(speed_table()))
    if args.quick:
        return
    doms = DOMAINS[: args.domains]
    with tempfile.TemporaryDirectory() as tmp:
        print("\n## Opponent model from offers (Pearson with the true utility, all packages)\n")
        print("\n".join(opponent_table(doms, Path(tmp))))
        print("\n## Elicitation (Pearson with the true utility, all packages)\n")
        print("\n".join(elicitation_table(doms, Path(tmp))))


if __name__ == "__main__":
    main()
