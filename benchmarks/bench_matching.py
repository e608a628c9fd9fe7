"""``make bench``: generate synthetic companies, run ours and the exact-reference baseline, score both.

    .venv/bin/python -m benchmarks.bench_matching --chains 2000 --profiles clean standard hard

Prints one table row per (profile, engine). The goals (README) are for the standard profile.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from datetime import date
from pathlib import Path

from benchmarks.baseline import run_baseline
from benchmarks.score import score
from benchmarks.synth import PROFILES, generate
from flows.reconcile import reconcile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=int, default=2000)
    parser.add_argument("--profiles", nargs="+", choices=sorted(PROFILES), default=["clean", "standard", "hard"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {args.chains:,} chains per profile; seed {args.seed}")
    header = (f"{'profile':9} {'engine':9} {'auto P':>7} {'auto R':>7} {'all P':>7} {'all R':>7} "
              f"{'settled✓':>9} {'auto rate':>9} {'exc F1':>7} {'seconds':>8}")
    print(header)
    print("-" * len(header))
    for profile in args.profiles:
        base = generate(args.out / f"{profile}-{args.chains}", args.chains, profile, args.seed)
        as_of = date.fromisoformat(json.loads((base / "truth.json").read_text())["as_of"])
        for engine in ("yecai", "baseline"):
            out = base / engine
            started = time.perf_counter()
            if engine == "yecai":
                reconcile(base / "drop", out, as_of=as_of)
            else:
                run_baseline(base / "drop", out)
            seconds = time.perf_counter() - started
            s = score(base / "truth.json", out)
            print(f"{profile:9} {engine:9} {s.auto_precision:7.2%} {s.auto_recall:7.2%} {s.all_precision:7.2%} "
                  f"{s.all_recall:7.2%} {s.settled_correctly:9.2%} {s.auto_match_rate:9.2%} {s.macro_f1:7.3f} "
                  f"{seconds:8.1f}", flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print("auto/all P, R: link precision and recall (auto links; auto + suggested); settled✓: bank transactions "
          "that auto links settle completely and exactly as the truth says; exc F1: macro F1 over exception codes")


if __name__ == "__main__":
    main()
