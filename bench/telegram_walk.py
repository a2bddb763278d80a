"""``python -m bench telegram-walk``: scripted patients walking the shipped flows through the
real bot, against a bare PTB echo bot (see ``bench.telegram``)."""

from __future__ import annotations

from bench.telegram import run_walk as run

__all__ = ["run"]
