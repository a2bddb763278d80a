"""``python -m bench NAME [--json]``: run one benchmark (see ``bench.BENCHES``)."""

from __future__ import annotations

import argparse
import importlib
import sys

import bot.kinds  # noqa: F401  registers the document kinds with the loader, as bot.cli does
from bench import BENCHES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=sorted(BENCHES), help="which benchmark to run")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    args = parser.parse_args(argv)
    module = importlib.import_module(BENCHES[args.name])
    code: int = module.run(json=args.json)
    return code


if __name__ == "__main__":
    sys.exit(main())
