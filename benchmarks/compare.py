"""`python -m benchmarks.compare BEFORE AFTER`: two `python -m benchmarks` runs side by side.

Reads the `results.json` of each folder (say, one run of the commit before a change and
one of the change, in the same session) and prints a Markdown table: per workload,
xconv's time and its ratio to each peer before and after, and what ran after. The two
runs' peers are timed anew each time, so the ratios, not the milliseconds, are the
comparison across runs.

    python -m benchmarks.compare /tmp/before /tmp/after --peer torch
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def table(before: dict, after: dict, peer: str) -> str:
    rows_before = {row["name"]: row for row in before["rows"]}
    lines = [
        f"| workload | runs (after) | xconv ms before | after | {peer} ms before | after "
        f"| ratio before | ratio after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in after["rows"]:
        old = rows_before.get(row["name"])
        if old is None or row.get("skipped") or old.get("skipped"):
            continue
        cells = [
            row["name"],
            row.get("algorithm") or "-",
            _ms(old, "xconv"),
            _ms(row, "xconv"),
            _ms(old, peer),
            _ms(row, peer),
            _ratio(old, peer),
            _ratio(row, peer),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _ms(row: dict, name: str) -> str:
    value = row.get("median_ms", {}).get(name)
    return "-" if value is None else f"{value:.3g}"


def _ratio(row: dict, peer: str) -> str:
    value = row.get("ratio", {}).get(peer)
    return "-" if value is None else f"{value:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    parser.add_argument("before", type=Path, help="folder with the first run's results.json")
    parser.add_argument("after", type=Path, help="folder with the second run's results.json")
    parser.add_argument("--peer", default="torch", help="the peer whose ratios to show")
    args = parser.parse_args(argv)
    try:
        before, after = load(args.before), load(args.after)
    except (OSError, ValueError) as error:
        print(f"cannot read the results: {error}", file=sys.stderr)
        return 2
    print(table(before, after, args.peer), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
