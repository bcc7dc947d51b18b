"""Dispatch `python -m bench NAME [--small] [...]` to bench/NAME.py's `main(argv) -> dict`.

The dispatcher prints the returned figures as one JSON line (the last line of output) and exits
non-zero when the bench's own integrity checks failed (`"ok": false`).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_")
                  and m.name not in {"common", "bare_claim_app"})


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m bench NAME [--small]\nbenches: " + ", ".join(available()))
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in available():
        print(f"unknown bench {name!r}; benches: {', '.join(available())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{name}")
    figures = module.main(rest)
    figures.setdefault("bench", name)
    print(json.dumps(figures, ensure_ascii=False, default=str))
    return 0 if figures.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
