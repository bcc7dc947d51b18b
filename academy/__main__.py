"""`python -m academy [check|hashes] [ROOT]`: validate the catalogue or print each course's content hash."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from academy.catalogue import check, load_catalogue


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 1 problems found)."""
    parser = argparse.ArgumentParser(prog="python -m academy", description=__doc__)
    parser.add_argument("command", nargs="?", default="check", choices=["check", "hashes"])
    parser.add_argument("root", nargs="?", type=Path, default=None, help="catalogue folder (default: bundled)")
    args = parser.parse_args(argv)
    problems = check(args.root)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    catalogue = load_catalogue(args.root)
    if args.command == "hashes":
        for slug, course in catalogue.courses.items():
            print(f"{slug}\tv{course.version}\t{course.content_hash}")
    else:
        print(f"catalogue ok: {len(catalogue.courses)} courses, {len(catalogue.assessments)} assessments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
