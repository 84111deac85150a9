"""`python -m conformance`: run the suite, print the dialect x peer matrix, write reports.

Exits 1 if any comparison failed, 0 otherwise (unsupported pairs are not failures).
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

from . import findings, libraries, report
from .cases import DIALECTS, OPS, load_cases, with_gradients
from .peers import PEER_NAMES
from .runner import run_all


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="xconv against PyTorch, JAX, Keras 3, ONNX Runtime, SciPy and the pages.",
    )
    peers, dialects = ", ".join(PEER_NAMES), ", ".join(DIALECTS)
    parser.add_argument(
        "--peer", action="append", choices=PEER_NAMES, metavar="NAME",
        help=f"peer to compare with, repeatable (default: all of {peers})",
    )  # fmt: skip
    parser.add_argument(
        "--dialect", action="append", choices=DIALECTS, metavar="NAME",
        help=f"only cases of this dialect, repeatable ({dialects})",
    )  # fmt: skip
    parser.add_argument(
        "--backend", action="append", choices=libraries.LIBRARIES, metavar="NAME",
        help="array library xconv runs on, repeatable (default: every one installed: "
        + ", ".join(libraries.LIBRARIES) + ")",
    )  # fmt: skip
    parser.add_argument(
        "--no-gradients", action="store_true",
        help="leave out the gradient case derived from each forward and transposed case",
    )  # fmt: skip
    parser.add_argument("--op", action="append", choices=OPS, help="cases of this operation only")
    parser.add_argument("--case", action="append", metavar="GLOB", help="case ids matching GLOB")
    parser.add_argument("--report", type=Path, metavar="FILE.json", help="write the JSON report")
    parser.add_argument("--markdown", type=Path, metavar="FILE.md", help="write a Markdown report")
    parser.add_argument(
        "--summary", type=Path, metavar="FILE.json",
        help="write the JSON report without its per-comparison results",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    peers = args.peer or list(PEER_NAMES)
    backends = args.backend or libraries.installed()
    missing = [name for name in backends if libraries.status(name)[0] is None]
    if missing:
        print(f"not installed here: {', '.join(missing)}", file=sys.stderr)
        return 2
    loaded = load_cases() if args.no_gradients else with_gradients(load_cases())
    cases = [
        case
        for case in loaded
        if (not args.dialect or case.dialect in args.dialect)
        and (not args.op or case.op in args.op)
        and (not args.case or any(fnmatch.fnmatch(case.id, g) for g in args.case))
    ]
    done = [0]

    def progress(case) -> None:
        done[0] += 1
        if not args.quiet and sys.stderr.isatty():
            print(f"\r{done[0]}/{len(cases)} {case.id[:60]:60}", end="", file=sys.stderr)

    run = run_all(cases, peers, progress, backends)
    if not args.quiet and sys.stderr.isatty():
        print("\r" + " " * 72 + "\r", end="", file=sys.stderr)
    checked = findings.check(peers)
    report.print_rich(run, checked)
    if args.report:
        report.to_json(run, checked, args.report)
    if args.summary:
        report.to_json(run, checked, args.summary, results=False)
    if args.markdown:
        args.markdown.write_text(report.to_markdown(run, checked))
    return 1 if any(r.status == "fail" for r in run.results) else 0


if __name__ == "__main__":
    sys.exit(main())
