"""What the loader checks beyond flows, catalogs and texts: document kinds and code's ids.

Each document kind is declared next to the code that uses it (a ``DocumentKind``, see
``bot.authoring``) and listed in ``KINDS``, in the order their cross-checks run. ``NEEDS``
lists the step and answer ids Python code relies on, so that ``hipbot validate`` fails when a
flow drops one. Importing this module registers both with the loader; the entry points
(``bot.cli``, the test set-up) do. The loader never imports the modules below: they build on
it.

To add a kind: write its reader with ``bot.authoring``'s tools, then add it to ``KINDS``.
"""

from __future__ import annotations

from bot import safety
from bot.authoring import CodeNeeds, DocumentKind, register, rely_on
from bot.features.clinics import rules as clinics
from bot.features.privacy import rules as privacy
from bot.features.reminders import chat as reminders_feature
from bot.features.reminders import rules as reminders

# read by ``hipbot test`` (bot.transcripts); the loader leaves them alone
TRANSCRIPTS = DocumentKind("transcript", "a transcript test")

KINDS: tuple[DocumentKind, ...] = (
    TRANSCRIPTS,
    clinics.AUDIENCES,
    reminders.FOLLOWUPS,
    privacy.POLICY,
    safety.SAFETY,
)

NEEDS: tuple[CodeNeeds, ...] = (
    *reminders.NEEDS,
    CodeNeeds(
        "bot.features.reminders.chat",
        "the /reminders buttons and a check-in reminder go there",
        reminders_feature.FLOW,
        steps=(
            *reminders_feature.FIRST_STEP.values(),
            reminders_feature.START,
            reminders_feature.TIME_ZONE,
            reminders_feature.QUIET,
            reminders_feature.CHECKIN,
        ),
    ),
    CodeNeeds(
        "bot.features.reminders.chat",
        "it saves a person's time zone and keeps each check-in",
        reminders_feature.FLOW,
        answers=("timezone", "ci_pain", "ci_trend"),
    ),
    CodeNeeds(
        "bot.features.progress",
        "the check-in's activities, scores and the worse-trend rule are read by name",
        reminders_feature.FLOW,
        answers=("ci_acts", "ci_recent", "ci_count", "ci_worse_run"),  # ci_pain, ci_trend: above
    ),
    CodeNeeds(
        "bot.features.progress.chat",
        "the /summary page shows the pain given in the symptom check",
        "hip",
        answers=("pain_now",),
    ),
)

register(*KINDS)
rely_on(*NEEDS)
