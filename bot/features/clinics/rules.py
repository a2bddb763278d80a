"""Clinics, pure: audiences, deep-link codes, small-count masking and the words patients see.

No database and no clock here: callers pass ``now`` (UTC seconds) and the people to look at.

Audiences
    An audience is a condition over a clinic's linked patients. Every part that is given
    must hold (they are ANDed):

    * ``if``: a condition on the saved answers, in the flow language (``bot.model``
      conditions: ``{answer: pain_now, at_least: 7}``, ``{all: [...]}``, ...);
    * ``weeks_since_joining``: ``{at_least: N, at_most: M}`` whole weeks since the patient
      joined the clinic's messages;
    * ``language``: one of the listed language codes.

    ``all`` (every linked patient) is built in. Named audiences are declared in YAML under a
    document kind of their own (``flows/audiences.yaml``), checked by ``hipbot validate``::

        audiences:
          sitting_pain:
            label: Sitting brings on pain
            if: {answer: hurts, has: sitting}

Small counts
    Every count staff see in Telegram about patients (``/stats``, the number of recipients, a
    broadcast's progress and report) is shown as ``"<5"`` when it is below 5, so that a count
    cannot single out a patient or their answers.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import schema, texts
from bot.authoring import (
    Builder,
    ShapeError,
    checked_after_flows,
    did_you_mean,
    document_kind,
    read_yaml,
    validation_errors,
    yaml_files,
)
from bot.content import TextKey, fill
from bot.errors import FlowError
from bot.model import AnswerValue, Condition, Reply, ReplyButton, answers_named
from bot.telegram_html import escape

WEEK = 7 * 24 * 3600.0
SMALL_COUNT = 5
ROLES = ("admin", "editor")
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud from a poster
CLINIC_PREFIX = "c_"
PERSONAL_PREFIX = "p_"
PATIENT_REF = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
AUDIENCES_KIND = "audiences"


# ---------------------------------------------------------------- audiences


@dataclass(frozen=True, slots=True)
class Person:
    """What an audience may look at: one linked patient of one clinic."""

    user_id: str
    joined_at: float
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Audience:
    id: str
    label: str
    condition: Condition | None = None
    min_weeks: int | None = None
    max_weeks: int | None = None
    languages: tuple[str, ...] = ()

    def admits(self, person: Person, now: float) -> bool:
        if self.condition is not None and not self.condition.holds(person.answers):
            return False
        weeks = weeks_since(person.joined_at, now)
        if self.min_weeks is not None and weeks < self.min_weeks:
            return False
        if self.max_weeks is not None and weeks > self.max_weeks:
            return False
        return not self.languages or person.language in self.languages


EVERYONE = Audience("all", "All patients")


def weeks_since(joined_at: float, now: float) -> int:
    """Whole weeks since joining (0 in the first week)."""
    return max(0, int((now - joined_at) // WEEK))


def select(people: Iterable[Person], audience: Audience, now: float) -> list[Person]:
    return [person for person in people if audience.admits(person, now)]


def audience_files(folder: str | Path) -> list[Path]:
    """The YAML files under ``folder`` that declare audiences."""
    found = []
    for path in yaml_files([folder]):
        try:
            if document_kind(read_yaml(path)) == AUDIENCES_KIND:
                found.append(path)
        except FlowError:
            continue  # a broken file is reported by `hipbot validate`, not here
    return found


def build_audiences(
    file: str, document: Any, saved: set[str] | None = None
) -> tuple[dict[str, Audience], list[FlowError]]:
    """One ``audiences:`` document as audiences, with every problem (file > path: message).

    ``saved`` is the set of answer names the flows save; when given, a condition on any
    other answer is a problem (the audience could never match anyone).
    """
    try:
        doc = schema.AudiencesDoc.model_validate(document)
    except ValidationError as error:
        return {}, validation_errors(file, error)
    builder = Builder(file)
    found: dict[str, Audience] = {}
    for name, raw in doc.audiences.items():
        path: list[str | int] = ["audiences", name]
        if name == EVERYONE.id:
            builder.problem(path, "'all' is built in (every linked patient): pick another name")
            continue
        condition = None
        if raw.if_ is not None:
            try:
                condition = builder.condition(raw.if_)
            except ShapeError as error:
                builder.problem([*path, "if"], str(error))
                continue
            unknown = answers_named(condition) - saved if saved is not None else set()
            for answer in sorted(unknown):
                hint = did_you_mean(answer, saved or set())
                builder.problem([*path, "if"], f"no step saves an answer named '{answer}'{hint}")
        weeks = raw.weeks_since_joining
        low = weeks.at_least if weeks else None
        high = weeks.at_most if weeks else None
        if low is not None and high is not None and low > high:
            builder.problem(
                [*path, "weeks_since_joining"], f"at_least {low} is more than at_most {high}"
            )
        if condition is None and weeks is None and not raw.language:
            builder.problem(path, "give at least one of 'if', 'weeks_since_joining' or 'language'")
        languages = tuple(raw.language or ())
        found[name] = Audience(name, raw.label, condition, low, high, languages)
    return found, builder.problems


def load_audiences(folder: str | Path, saved: set[str] | None = None) -> dict[str, Audience]:
    """``all`` plus every audience declared under ``folder`` (problems are skipped here:
    ``hipbot validate`` reports them)."""
    audiences = {EVERYONE.id: EVERYONE}
    for path in audience_files(folder):
        built, _ = build_audiences(str(path), read_yaml(path), saved)
        audiences.update(built)
    return audiences


def check_audiences_document(file: str, document: Any, saved: set[str]) -> list[FlowError]:
    """The loader's hook for ``audiences:`` files: every problem, none raised."""
    _, problems = build_audiences(file, document, saved)
    return problems


AUDIENCES = checked_after_flows(AUDIENCES_KIND, "clinic audiences", check_audiences_document)


# ---------------------------------------------------------------- codes and links


def new_code(prefix: str, length: int = 10) -> str:
    """A random deep-link code (``c_`` a clinic, ``p_`` a personal link): hard to guess."""
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


def check_patient_ref(ref: str) -> str:
    """A clinic's own reference for one patient: an opaque code, never a name."""
    ref = ref.strip()
    if not PATIENT_REF.match(ref):
        raise ValueError(
            f"patient reference {ref!r} is not accepted: use the clinic's own code for the "
            "patient, 1-32 of A-Z a-z 0-9 _ - (never a name)"
        )
    if not any(ch.isdigit() for ch in ref):
        raise ValueError(
            f"patient reference {ref!r} has no digit: it looks like a name. Use the clinic's "
            "own patient number or code (for example P-1042), never a name"
        )
    return ref


# ---------------------------------------------------------------- counts


def shown(count: int) -> str:
    """A count as staff may see it: below 5 is '<5' (0 included), so no one is singled out."""
    return "<5" if count < SMALL_COUNT else str(count)


def shown_html(count: int) -> str:
    """``shown`` for a Telegram HTML message ('&lt;5': a bare '<' is refused)."""
    return escape(shown(count))


@dataclass(frozen=True, slots=True)
class Stats:
    linked: int
    active: int
    finished_check: int
    active_days: int = 30

    def lines(self) -> list[str]:
        """HTML lines (masked counts are written '&lt;5')."""
        return [
            f"Linked patients: {shown_html(self.linked)}",
            f"Active in the last {self.active_days} days: {shown_html(self.active)}",
            f"Finished the symptom check: {shown_html(self.finished_check)}",
        ]


LANGUAGE_SKIPPED = "no_language"  # a delivery state: not sent, no text in their language


@dataclass(frozen=True, slots=True)
class Counts:
    """Deliveries of one broadcast by state."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0  # left the clinic, stopped all messages, or the broadcast was cancelled
    language: int = 0  # not sent: the broadcast has no text in their language (not in total)

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.failed + self.blocked + self.skipped

    def line(self, masked: bool = True) -> str:
        """HTML-safe: masked counts are written '&lt;5'."""
        show = shown_html if masked else str
        return (
            f"queued {show(self.pending)}, sent {show(self.sent)}, failed {show(self.failed)}, "
            f"blocked {show(self.blocked)}, skipped {show(self.skipped)}"
        )


# ---------------------------------------------------------------- what patients see


# The words are in flows/texts_clinics.yaml (keys: bot/texts.py, set 'clinics').


def _say(key: TextKey, clinic_name: str | None = None, language: str = "en") -> str:
    said = key.get(language)
    return said if clinic_name is None else fill(said, clinic=escape(clinic_name))


def join_question(clinic_name: str, language: str = "en") -> str:
    return _say(texts.JOIN_QUESTION, clinic_name, language)


def joined(clinic_name: str, language: str = "en") -> str:
    return _say(texts.JOINED, clinic_name, language)


def declined(clinic_name: str, language: str = "en") -> str:
    return _say(texts.DECLINED, clinic_name, language)


def left(clinic_name: str, language: str = "en") -> str:
    return _say(texts.LEFT, clinic_name, language)


def not_from(clinic_name: str, language: str = "en") -> str:
    return _say(texts.NOT_FROM, clinic_name, language)


def not_linked(language: str = "en") -> str:
    return _say(texts.NOT_LINKED, None, language)


def which_to_leave(language: str = "en") -> str:
    return _say(texts.WHICH_TO_LEAVE, None, language)


def patient_message(clinic_name: str, text: str, stop_data: str, language: str = "en") -> Reply:
    """A broadcast as its patients see it: the clinic's name, its text, a way to stop.

    The preview in the ``/broadcast`` wizard is this very Reply.
    """
    body = f"<b>{escape(clinic_name)}</b>\n\n{text}"
    stop = texts.STOP_LABEL.get(language)
    return Reply(body, ((ReplyButton(stop, stop_data),),), step="broadcast")
