"""Orchestration overhead: the nightly sync as a Prefect flow against the same steps called directly.

    .venv/bin/python -m benchmarks.bench_flows --documents 100000 [--postgres URL]

A seeded synthetic company (benchmarks/synth.py) of about ``--documents`` documents and bank
transactions is read from a drop folder into a fresh database, matched, stored and drafted,
twice: by ``flows.pipeline.run`` (no Prefect) and by the ``yecai-sync`` flow (flows/nightly.py),
each on its own fresh database. The flow runs on Prefect's temporary local API, started by a
warm-up flow run first so that the API's start (printed apart) is not counted as overhead of
the run. Prints wall-clock and CPU seconds of this process (the Prefect API runs in a process
of its own), the seconds per stage of both, and the overhead. Target: ≤ 10 %.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.synth import generate

ROOT = Path(__file__).resolve().parent.parent


def company_file(folder: Path, drop: Path) -> Path:
    example = ROOT / "config" / "example" / "company.toml"
    text = example.read_text(encoding="utf-8").split("[connectors.")[0]
    chart = example.parent / "chart_of_accounts.toml"
    text = text.replace('id = "example"', 'id = "bench"').replace(
        'chart_of_accounts = "chart_of_accounts.toml"', f'chart_of_accounts = "{chart}"')
    path = folder / "company.toml"
    path.write_text(text + f'[connectors.erp_and_bank]\ntype = "dropfolder"\npath = "{drop}"\n', encoding="utf-8")
    return path


def chains_for(documents: int, scratch: Path) -> int:
    """Synthetic chains that make about ``documents`` documents (measured on a small company)."""
    sample = generate(scratch / "probe", 400, "standard", 1) / "drop"
    rows = sum(len({line.split(",")[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]})
               for path in sample.glob("*.csv") if path.name != "counterparties.csv")
    rows += len((sample / "bank" / "statement.csv").read_text(encoding="utf-8").splitlines()) - 1
    return max(10, round(400 * documents / rows))


def database(stack: ExitStack, scratch: Path, name: str, postgres: str | None) -> str:
    if not postgres:
        return f"sqlite:///{scratch / (name + '.db')}"
    from benchmarks.databases import temporary_postgres

    return stack.enter_context(temporary_postgres(postgres)).url.render_as_string(hide_password=False)


def timed(work) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a fresh database is made per run)")
    parser.add_argument("--out", type=Path, default=None, help="where the synthetic company goes (default: temp)")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    kind = "postgres" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory(prefix="yecai-bench-flows-") as scratch_dir, ExitStack() as stack:
        scratch = Path(scratch_dir)
        out = args.out or scratch / "company"
        chains = chains_for(args.documents, scratch)
        drop = generate(out, chains, "standard", 3) / "drop"
        config = company_file(scratch, drop)
        print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; {chains:,} synthetic chains; database {kind}")

        from flows import pipeline

        plain_db = database(stack, scratch, "plain", args.postgres)
        plain_wall, plain_cpu, plain = timed(lambda: pipeline.run(str(config), plain_db))
        documents = sum(v for k, v in plain["stored"].items() if k != "counterparty")
        print(f"{documents:,} documents and bank transactions, {sum(plain['links'].values()):,} links")

        (scratch / "prefect-home").mkdir()
        os.environ["PREFECT_HOME"] = str(scratch / "prefect-home")
        from prefect import flow

        from flows.nightly import for_company
        from ledger.settings import load_company

        @flow(name="warm-up")
        def warm_up() -> None:
            return None

        start_wall, _, _ = timed(warm_up)
        os.environ["DATABASE_URL"] = database(stack, scratch, "flow", args.postgres)
        flow_wall, flow_cpu, summary = timed(lambda: for_company(load_company(config))(str(config)))
        assert summary["links"] == plain["links"] and summary["stored"] == plain["stored"]
    print(f"{'seconds per stage':24} {'direct':>8} {'flow':>8}")
    for stage in plain["seconds"]:
        print(f"{stage:24} {plain['seconds'][stage]:8.2f} {summary['seconds'].get(stage, float('nan')):8.2f}")
    print(f"{'':24} {'wall s':>8} {'CPU s':>8}")
    print(f"{'steps called directly':24} {plain_wall:8.2f} {plain_cpu:8.2f}")
    print(f"{'yecai-sync flow':24} {flow_wall:8.2f} {flow_cpu:8.2f}")
    print(f"overhead: wall {100 * (flow_wall / plain_wall - 1):+.1f} %, CPU {100 * (flow_cpu / plain_cpu - 1):+.1f} % "
          f"(target ≤ 10 %)")
    print(f"Prefect's temporary API: {start_wall:.1f} s to start and run the warm-up flow (not counted above); "
          f"it runs in its own process, whose CPU is not in the flow's column")


if __name__ == "__main__":
    main()
