"""The project's shared folder, which the tests read beside the repository (``../shared``):
the seed document the flows must not copy, and the Bot API reference the fake Bot API checks
requests against. ``HIPBOT_SHARED_DIR`` points the tests at another copy."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class SharedFileMissing(FileNotFoundError):
    """A file the tests need from the shared folder is not there."""


def shared_dir() -> Path:
    return Path(os.environ.get("HIPBOT_SHARED_DIR") or REPO.parent / "shared")


def shared_file(relative: str) -> Path:
    """``relative`` inside the shared folder, or one sentence saying what is missing."""
    path = shared_dir() / relative
    if not path.is_file():
        raise SharedFileMissing(
            f"the tests need {relative} from the project's shared folder, but {path} does not "
            f"exist: put the shared/ folder beside the repository ({REPO.parent / 'shared'}) "
            "or set HIPBOT_SHARED_DIR to it"
        )
    return path
