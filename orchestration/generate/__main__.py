"""Command line: python -m orchestration.generate --scale sample|county|province --seed N --out DIR."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestration.generate.run import generate
from orchestration.generate.scales import SCALES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.generate",
        description="Write a synthetic raw world (the seven sources) and its ground-truth manifest.",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="sample")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument(
        "--out", type=Path, required=True, help="folder to write (its seven source folders are replaced)"
    )
    parser.add_argument("--defects", choices=("all", "none"), default="all")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    args = parser.parse_args(argv)
    generate(args.scale, args.seed, args.out, args.defects, args.workers)


if __name__ == "__main__":
    main()
