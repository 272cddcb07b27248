"""`make bench`: python -m bench [--scale province] [--seed 2015] [--only STAGE …] [--workers N]."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench import world
from bench.run import OPTIONAL_STAGES, RESULTS_DIR, STAGES, Bench
from orchestration.generate.scales import SCALES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time the pipeline on a cached generated world; print one table, write JSON.",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="province")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[*STAGES, *OPTIONAL_STAGES],
        metavar="STAGE",
        help=f"run only these stages (of: {', '.join([*STAGES, *OPTIONAL_STAGES])}); "
        "the others stay as latest.json has them",
    )
    parser.add_argument("--workers", type=int, default=None, help="parsing processes (default: CPU count)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="warehouses and logs of the run (default: BENCH_WORK_DIR or <cache>/work-<scale>)",
    )
    args = parser.parse_args(argv)
    work = args.work_dir or Path(os.environ.get("BENCH_WORK_DIR") or world.cache_dir() / f"work-{args.scale}")
    Bench(args.scale, args.seed, args.workers, args.results_dir, work).run(args.only)


if __name__ == "__main__":
    main()
