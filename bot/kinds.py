"""Every kind of YAML document hipbot reads beyond flows, catalogs and texts.

Each kind is declared next to the code that uses it (a ``DocumentKind``, see
``bot.authoring``) and listed here, in the order their cross-checks run. Importing this
module registers them with the loader; the entry points (``bot.cli``, the test set-up) do.
The loader never imports the modules below: they build on it.

To add a kind: write its reader with ``bot.authoring``'s tools, then add it to ``KINDS``.
"""

from __future__ import annotations

from bot import clinics, privacy, reminders, safety
from bot.authoring import DocumentKind, register

# read by ``hipbot test`` (bot.transcripts); the loader leaves them alone
TRANSCRIPTS = DocumentKind("transcript", "a transcript test")

KINDS: tuple[DocumentKind, ...] = (
    TRANSCRIPTS,
    clinics.AUDIENCES,
    reminders.FOLLOWUPS,
    privacy.POLICY,
    safety.SAFETY,
)

register(*KINDS)
