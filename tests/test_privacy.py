"""Privacy and safety (issue 7): the policy, consent, /withdraw, /mydata, /delete, encryption
at rest, retention, under-16s and the red-flag audit with clinic alerts.

People are driven in-process over the real engine, flows, features and a SQLite file, with
an injected clock; ``tests/test_privacy_e2e.py`` does the same through the real ``hipbot run``
against the fake Bot API (logs, sendDocument, the confirm button).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot import crypto, logs, outgoing
from bot.actions import CONSENT_ANSWER
from bot.conversation import parse_input
from bot.engine import Engine
from bot.errors import ConfigError, FlowErrors
from bot.features import Features, Response, load_features
from bot.features.clinics.store import ClinicStore
from bot.features.privacy.chat import purge, purge_job
from bot.features.privacy.rules import (
    CLINIC_ALERT,
    CLINIC_NOTICE,
    inactive_since,
    render_policy,
)
from bot.lint import lint_paths
from bot.loader import load_bundle
from bot.model import Bundle, Event, Reply
from bot.settings import load_settings
from bot.storage.sql import SqlStorage

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
USER = "7770001234"  # a Telegram id: the person's private chat
OTHER = "8880005678"
STAFF = "9990004321"
T0 = 1_800_000_000.0
DAY = 86400.0
RED_FLAG_NOS = ["No"] * 8
# answers whose values a leak would show: the values as stored, not labels on buttons
SECRET_VALUES = ["stiffness", "clicking", "front_pain", "fever_hot_joint", "pain_now", '"signs"']


# ---------------------------------------------------------------- a person at the bot


@dataclass
class Clock:
    now: float = T0


@dataclass
class Person:
    """One person talking to the bot the way an adapter runs it: engine turns, feature
    commands and buttons, replies queued in the outbox, all at the clock's time."""

    engine: Engine
    storage: SqlStorage
    features: Features
    clock: Clock
    user_id: str = USER
    replies: list[Reply] = field(default_factory=list)
    response: Response | None = None

    @property
    def chat(self) -> int:
        return int(self.user_id)

    def handle(self, event: Event) -> list[Reply]:
        session = self.storage.load_session(self.user_id)
        outcome = self.engine.handle(session, event, self.user_id)
        said = [reply for reply in outcome.replies if not reply.edit]
        rows = [row for reply in said for row in outgoing.say(self.chat, reply)]
        self.storage.commit_turn(outcome.session, outcome.effects, rows, self.clock.now)
        self.replies = list(outcome.replies)
        return self.replies

    def send(self, text: str) -> list[Reply]:
        event = parse_input(text)
        command = self.features.commands.get(event.command) if event.kind == "command" else None
        if command is not None:
            return self._respond(command(self._context(event.args)))
        return self.handle(event)

    def click(self, label: str) -> list[Reply]:
        offered = {b.label: b.data for r in self.replies for row in r.buttons for b in row}
        assert label in offered, f"no button {label!r}; offered {sorted(offered)}"
        response = self.features.press(self._context(), offered[label])
        if response is not None:
            return self._respond(response)
        return self.handle(Event.button(offered[label]))

    def walk(self, *labels: str) -> None:
        for label in labels:
            self.click(label)

    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    def deliver(self) -> int:
        """What the outbox sender does: every due row sent and marked."""
        rows = self.storage.claim_outbox(1000, self.clock.now + 1)
        for row in rows:
            self.storage.mark_sent(row.id, self.clock.now + 1)
        return len(rows)

    def _context(self, args: str = "") -> Any:
        from bot.features import Context

        return Context(
            self.user_id,
            self.chat,
            self.storage,
            self.engine,
            self.clock.now,
            args,
            session=self.storage.load_session(self.user_id),
        )

    def _respond(self, response: Response) -> list[Reply]:
        self.response = response
        replies = [*([response.edit] if response.edit else []), *response.replies]
        rows = [row for reply in replies for row in outgoing.say(self.chat, reply)]
        for document in response.documents:  # as the turn service queues a file
            d = document
            rows.append(outgoing.document(self.chat, d.filename, d.content, d.caption))
        self.storage.commit_outbox(rows, self.clock.now)
        self.replies = replies
        return replies


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle([FLOWS])


@pytest.fixture
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SqlStorage]:
    """A SQLite file; tests marked with ``BOTH`` also run on PostgreSQL (when a server is
    there: ``scripts/postgres-test-server``; CI starts one)."""
    if getattr(request, "param", "sqlite") == "postgres":
        from bot.storage import open_storage
        from tests.fakes.postgres import fresh_database

        monkeypatch.setenv(crypto.KEY_ENV, crypto.new_key())
        databases = fresh_database()
        store = open_storage(next(databases))
        assert isinstance(store, SqlStorage)
        load_features().setup(store)
        yield store
        store.close()
        databases.close()
        return
    store = SqlStorage(str(tmp_path / "hipbot.db"))
    load_features().setup(store)
    yield store
    store.close()


BOTH = pytest.mark.parametrize("storage", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def person(bundle: Bundle, storage: SqlStorage, clock: Clock) -> Person:
    return Person(Engine(bundle), storage, load_features(), clock)


def to_consent(person: Person) -> None:
    person.send("/check")
    person.walk("Start", *RED_FLAG_NOS, "Check my symptoms", "16 or older")
    assert person.storage.load_session(person.user_id).step == "consent"  # type: ignore[union-attr]


def consent_and_answer(person: Person) -> None:
    """Agree, then answer the first two symptom questions."""
    to_consent(person)
    person.click("I agree")
    person.walk("Stiffness", "Clicking", "Done")
    person.send("6")


def step(person: Person) -> str:
    session = person.storage.load_session(person.user_id)
    return f"{session.flow}:{session.step}" if session else "<no session>"


def consents(storage: SqlStorage, user: str = USER) -> list[tuple[int, float, float | None]]:
    return [
        (int(v), float(g), w)
        for v, g, w in storage.db.all(
            "SELECT policy_version, given_at, withdrawn_at FROM consents WHERE user_id = ?"
            " ORDER BY id",
            (user,),
        )
    ]


def walk_tables(storage: SqlStorage, needle: str) -> dict[str, list[str]]:
    """Every table of the database file, every row and column (sealed values opened): where
    ``needle`` appears, as {table: [column, ...]}."""
    found: dict[str, list[str]] = {}
    codec = storage.codec
    for table in storage.db.tables():
        cursor = storage.db.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            for column, value in zip(columns, row, strict=True):
                text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                if isinstance(value, str) and crypto.is_sealed(value):
                    text = codec.open(value)
                if needle in text:
                    found.setdefault(table, []).append(column)
    return found


def raw_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log as they are on disk."""
    return b"".join(
        p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.suffix != ".key"
    )


SHIPPED_VERSION = int(re.search(r"^version: (\d+)$", (FLOWS / "privacy.yaml").read_text(), re.M)[1])
"""The shipped policy's version: the tests below build older and newer ones from it."""


def flows_with_policy_version(tmp_path: Path, version: int) -> Path:
    """A copy of the shipped flows with the policy (and the consent step) at ``version``."""
    target = tmp_path / f"flows_v{version}"
    shutil.copytree(FLOWS, target)
    policy = target / "privacy.yaml"
    policy.write_text(
        policy.read_text().replace(f"\nversion: {SHIPPED_VERSION}\n", f"\nversion: {version}\n")
    )
    hip = target / "hip.yaml"
    hip.write_text(
        hip.read_text().replace(
            f"with: {{policy_version: {SHIPPED_VERSION}}}", f"with: {{policy_version: {version}}}"
        )
    )
    return target


# ---------------------------------------------------------------- the policy


def test_the_policy_is_loaded_with_the_flows_and_says_what_why_how_long_and_who(
    bundle: Bundle,
) -> None:
    policy = bundle.policy
    assert policy is not None and policy.version == SHIPPED_VERSION
    assert policy.consent.ask.flow == "hip" and policy.consent.ask.step == "consent"
    gated = {s.id for f in bundle.flows.values() for s in f.steps.values() if s.needs_consent}
    assert {"sx_pain", "sx_signs", "rem_ci_pain"} <= gated and "rf_fall" not in gated
    for item in policy.items:  # every kind of data: what, why, how long, who
        assert all(
            part.get("en").strip() for part in (item.what, item.why, item.kept, item.seen_by)
        )
    said = "\n".join(render_policy(policy, "en", 400))
    assert "400 days" in said and "{" not in said
    assert "clinic" in said and "staff never see your answers" in said
    for command in ("/mydata", "/withdraw", "/delete", "/privacy"):
        assert command in said
    assert f"version {SHIPPED_VERSION}" in said


def test_every_right_in_the_policy_is_a_command_the_bot_answers(bundle: Bundle) -> None:
    assert bundle.policy is not None
    features = load_features()
    answered = set(features.commands) | set(bundle.routes()) | {"start", "stop"}
    assert set(bundle.policy.commands()) <= answered
    assert {"privacy", "mydata", "delete"} <= set(features.commands)
    assert "withdraw" in bundle.routes()


def test_privacy_command_answers_with_the_policy(person: Person) -> None:
    person.send("/privacy")
    assert "What I keep about you" in person.text()
    assert f"{load_settings().retention_days} days" in person.text()
    assert person.storage.load_session(USER) is None  # reading it stores nothing


def test_the_policy_passes_the_reading_level_lint() -> None:
    report = lint_paths([FLOWS / "privacy.yaml"])
    assert report.ok, report.problems
    assert [score.topic for score in report.topics] == ["privacy_policy"]


def _broken_policy(tmp_path: Path, old: str, new: str, file: str = "privacy.yaml") -> FlowErrors:
    flows = flows_with_policy_version(tmp_path, 1)
    path = flows / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(FlowErrors) as caught:
        load_bundle([flows])
    return caught.value


def test_a_new_policy_version_must_be_matched_by_the_consent_step(tmp_path: Path) -> None:
    errors = _broken_policy(tmp_path, "\nversion: 1\n", "\nversion: 2\n")  # its copy is at 1
    assert [e.path for e in errors.errors] == ["steps.consent_yes > do > record_consent"]
    assert "policy_version is 1 but" in str(errors) and "is version 2" in str(errors)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('ask: "hip:consent"', 'ask: "hip:consnet"', "consent > ask: unknown step 'consnet'"),
        (
            'ask: "hip:consent"',
            'ask: "hip:consent"\n  topics: [symptoms]',
            "consent > topics: 'topics' (symptoms) is no longer read: put 'needs_consent: true'",
        ),
        ("  - command: mydata\n", "  - comand: mydata\n", "unknown key 'comand'"),
        ('updated: "2026-12-02"', 'updated: "02.12.2026"', "updated"),
        ("<b>What you can do</b>", "<b>What you can do", "<b> is never closed"),
    ],
)
def test_policy_mistakes_are_named_with_their_path(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    errors = _broken_policy(tmp_path, old, new)
    assert says in str(errors)
    assert all(e.file.endswith("privacy.yaml") for e in errors.errors)


def test_needs_consent_belongs_on_a_question(tmp_path: Path) -> None:
    errors = _broken_policy(
        tmp_path, "  sx_summary:\n", "  sx_summary:\n    needs_consent: true\n", file="hip.yaml"
    )
    assert [(e.file.rsplit("/", 1)[-1], e.path) for e in errors.errors] == [
        ("hip.yaml", "steps.sx_summary > needs_consent")
    ]
    assert "is for a step that asks a question" in str(errors)


def test_only_one_privacy_policy_may_be_given(tmp_path: Path) -> None:
    flows = flows_with_policy_version(tmp_path, 1)
    shutil.copy(flows / "privacy.yaml", flows / "privacy_copy.yaml")
    with pytest.raises(FlowErrors, match="only one privacy policy may be given"):
        load_bundle([flows])


# ---------------------------------------------------------------- consent


@BOTH
def test_consent_is_stored_with_its_time_and_policy_version(person: Person, clock: Clock) -> None:
    to_consent(person)
    assert consents(person.storage) == []  # nothing before the button
    clock.now = T0 + 60
    person.click("I agree")
    assert consents(person.storage) == [(SHIPPED_VERSION, T0 + 60, None)]
    session = person.storage.load_session(USER)
    assert session is not None and session.answers[CONSENT_ANSWER] == SHIPPED_VERSION


def test_declining_stores_no_consent_and_no_answer(person: Person) -> None:
    to_consent(person)
    person.click("No thanks")
    assert consents(person.storage) == []
    session = person.storage.load_session(USER)
    assert session is not None and session.answers == {}


def test_a_new_policy_version_asks_again_before_the_next_health_question(
    person: Person, tmp_path: Path
) -> None:
    person.engine = Engine(load_bundle([flows_with_policy_version(tmp_path, 1)]))
    to_consent(person)
    person.click("I agree")
    person.walk("Stiffness", "Done")
    assert step(person) == "hip:sx_pain"
    # the policy changes while the pain question is on screen
    person.engine = Engine(load_bundle([flows_with_policy_version(tmp_path, 2)]))
    person.send("5")
    assert step(person) == "hip:consent"  # asked again; the answer was not saved
    assert "May I save your answers?" in person.text()
    session = person.storage.load_session(USER)
    assert session is not None and "pain_now" not in session.answers
    # a reminder's timer into a health question meets the same gate
    person.handle(Event.timer_named("hip:sx_hurts"))
    assert step(person) == "hip:consent"
    person.click("I agree")
    assert [version for version, _, _ in consents(person.storage)] == [1, 2]
    assert step(person) == "hip:sx_signs"
    # with consent to version 2, the timer goes straight to the question
    person.handle(Event.timer_named("hip:sx_hurts"))
    assert step(person) == "hip:sx_hurts"


def test_questions_not_marked_needs_consent_need_no_consent(person: Person) -> None:
    person.send("/start")
    person.handle(Event.timer_named("hip:rf_fall"))  # red flags come before consent, by design
    assert step(person) == "hip:rf_fall"
    person.handle(Event.timer_named("hip:sx_pain"))  # a symptom question does not
    assert step(person) == "hip:consent"


# ---------------------------------------------------------------- withdrawing


@BOTH
def test_withdraw_stops_processing_and_erases_health_answers_in_one_step(
    person: Person, storage: SqlStorage, clock: Clock
) -> None:
    person.send("/urgent")
    person.walk("Start the questions", "No", "Yes")  # fever: a red flag, audited
    assert storage.db.one("SELECT count(*) FROM red_flag_audit")[0] == 1
    consent_and_answer(person)
    clock.now = T0 + 300
    person.send("/withdraw")
    assert "took back your yes" in person.text()
    session = storage.load_session(USER)
    assert session is not None and session.answers == {}
    assert consents(storage) == [(SHIPPED_VERSION, T0, T0 + 300)]
    assert storage.db.one("SELECT count(*) FROM red_flag_audit WHERE user_id = ?", (USER,))[0] == 0
    assert [kind for kind, _ in storage.journal(USER) if kind == "red_flag"] == []
    # processing stopped: the next health question asks for consent first
    person.handle(Event.timer_named("hip:sx_pain"))
    assert step(person) == "hip:consent"


# ---------------------------------------------------------------- /mydata


@BOTH
def test_mydata_sends_everything_stored_as_a_json_file(
    person: Person, storage: SqlStorage, clock: Clock
) -> None:
    clinics = ClinicStore(storage.db)
    clinic = clinics.add_clinic("Hip Clinic", T0)
    clinics.link(clinic.id, USER, "P-1042", T0)
    consent_and_answer(person)
    clock.now = T0 + 3600
    person.send("/mydata")
    assert person.response is not None and len(person.response.documents) == 1
    document = person.response.documents[0]
    assert document.filename.endswith(".json") and document.caption
    data = json.loads(document.content)
    assert data["user_id"] == USER
    assert data["session"]["step"] == "sx_hurts"
    answers = {a["question"]: a for a in data["answers"]}
    assert answers["signs"]["answer"] == ["stiffness", "clicking"]
    assert answers["pain_now"] == {
        "question": "pain_now",
        "answer": 6,
        "answered_at": "2027-01-15T08:00:00+00:00",
    }
    assert data["privacy"]["consents"] == [
        {
            "policy_version": SHIPPED_VERSION,
            "given_at": "2027-01-15T08:00:00+00:00",
            "withdrawn_at": None,
        }
    ]
    assert data["clinics"]["links"][0]["patient_ref"] == "P-1042"
    assert {"journal", "flags", "privacy", "clinics"} <= set(data)
    assert data["privacy"]["messages_to_you"]  # the replies queued for this person
    # the file is a second copy of everything: once sent, the outbox keeps none of it
    sending = "SELECT count(*) FROM outbox WHERE method = 'document'"
    assert storage.db.one(sending)[0] == 1
    person.deliver()
    assert storage.db.one(sending)[0] == 0 and storage.load_session(USER) is not None


def test_answer_times_keep_the_time_of_each_answer(person: Person, clock: Clock) -> None:
    to_consent(person)
    person.click("I agree")
    person.walk("Stiffness", "Done")
    clock.now = T0 + DAY
    person.send("6")
    record = person.storage.session_record(USER)
    assert record is not None
    times = record["answered_at"]
    assert times["signs"] == T0 and times["pain_now"] == T0 + DAY
    assert times["rf_fall"] == T0


# ---------------------------------------------------------------- /delete


def _someone_with_data_everywhere(person: Person, storage: SqlStorage) -> set[str]:
    """A patient with rows in every store: the tables they are in."""
    clinics = ClinicStore(storage.db)
    clinic = clinics.add_clinic("Hip Clinic", T0)
    code = clinics.add_invite(clinic.id, "P-1042", T0)
    clinics.link(clinic.id, USER, "P-1042", T0)
    draft = clinics.create_draft(clinic.id, STAFF, T0)
    clinics.queue(clinic.id, draft, [(USER, T0), (OTHER, T0)], T0, None)
    storage.db.execute(
        "INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)", (clinic.id, T0)
    )
    tables = {
        "sessions", "journal", "flags", "outbox", "consents", "red_flag_audit",
        "clinic_patients", "clinic_deliveries", "clinic_invites",
    }  # fmt: skip
    if "reminders" in storage.exporters:  # the reminders feature is wired in
        from bot.features.reminders.rules import Rule
        from bot.features.reminders.store import ReminderStore

        reminders = ReminderStore(storage.db)
        reminders.save_settings(USER, T0, tz="Europe/Vienna")
        reminders.record_checkin(USER, 6, "same", T0)
        reminders.set_reminder(USER, int(USER), "tip", Rule.daily(9 * 60), T0)
        storage.db.execute(
            "INSERT INTO followup_progress (user_id, sequence, message_id, state, at)"
            " VALUES (?, 'weeks', 'hello', 'sent', ?)",
            (USER, T0),
        )
        tables |= {"reminder_people", "checkin_answers", "reminders", "followup_progress"}
    person.send(f"/start {code}")
    person.send("/urgent")
    person.walk("Start the questions", "No", "Yes")  # red flag: audit row
    consent_and_answer(person)
    storage.set_flag(USER, "stopped", False)
    person.send("/mydata")
    person.deliver()
    return tables


def test_delete_asks_first_and_keep_erases_nothing(person: Person, storage: SqlStorage) -> None:
    consent_and_answer(person)
    person.send("/delete")
    assert "Erase all I keep about you?" in person.text()
    assert storage.load_session(USER) is not None  # the command alone erases nothing
    person.click("No, keep it")
    assert "not erased anything" in person.text()
    assert storage.load_session(USER) is not None and consents(storage)


@BOTH
def test_delete_erases_every_row_about_the_person_in_every_table(
    bundle: Bundle, person: Person, storage: SqlStorage, clock: Clock
) -> None:
    other = Person(person.engine, storage, person.features, clock, user_id=OTHER)
    consent_and_answer(other)
    tables = _someone_with_data_everywhere(person, storage)
    # the walk sees the person everywhere they are (sealed columns included)
    assert tables <= set(walk_tables(storage, USER))
    person.send("/delete")
    person.click("Yes, erase it all")
    assert "erased all I kept about you" in person.text()
    person.deliver()  # the "done" message goes out, then leaves nothing behind
    assert walk_tables(storage, USER) == {}
    # every table was looked at, and the other person is still all there
    assert len(storage.db.tables()) >= 15
    assert storage.load_session(OTHER) is not None and consents(storage, OTHER)
    assert "clinic_deliveries" in walk_tables(storage, OTHER)


@BOTH
def test_delete_of_a_staff_member_leaves_no_staff_rows(person: Person, storage: SqlStorage) -> None:
    clinics = ClinicStore(storage.db)
    clinic = clinics.add_clinic("Hip Clinic", T0)
    clinics.add_staff(clinic.id, USER, "editor", T0)
    clinics.save_wizard(USER, {"step": "text"}, T0)
    sent = clinics.create_draft(clinic.id, USER, T0)
    clinics.queue(clinic.id, sent, [(OTHER, T0)], T0, report_to=USER)  # a broadcast they sent
    clinics.create_draft(clinic.id, USER, T0)  # and one they are writing
    person.send("/start")
    assert {"clinic_staff", "clinic_wizards", "clinic_broadcasts"} <= set(
        walk_tables(storage, USER)
    )
    person.send("/delete")
    person.click("Yes, erase it all")
    person.deliver()
    assert walk_tables(storage, USER) == {}
    assert storage.db.one("SELECT count(*) FROM clinic_broadcasts")[0] == 1  # kept, anonymous


def test_erased_rows_are_zeroed_in_the_file(
    person: Person, storage: SqlStorage, tmp_path: Path
) -> None:
    consent_and_answer(person)
    storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert USER.encode() in raw_bytes(tmp_path / "hipbot.db")
    person.send("/delete")
    person.click("Yes, erase it all")
    person.deliver()
    storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert USER.encode() not in raw_bytes(tmp_path / "hipbot.db")


# ---------------------------------------------------------------- under 16


@BOTH
def test_under_16_is_pointed_to_a_parent_and_nothing_about_them_is_kept(
    person: Person, storage: SqlStorage
) -> None:
    person.send("/urgent")
    person.walk("Start the questions", "No", "Yes")  # an earlier red flag, audited
    consent_and_answer(person)  # and an earlier consent with answers
    assert walk_tables(storage, USER)
    person.send("/check")
    person.walk("Start", *RED_FLAG_NOS, "Check my symptoms", "Under 16")
    assert "parent" in person.text() and "doctor" in person.text()
    assert set(walk_tables(storage, USER)) == {"outbox"}  # only the reply, not sent yet
    person.deliver()
    assert walk_tables(storage, USER) == {}
    # tapping on goes on as with someone new: nothing was remembered
    person.click("Back to menu")
    assert step(person) == "hip:welcome"


# ---------------------------------------------------------------- encryption at rest


def test_the_raw_database_file_holds_no_answer_in_plain_text(
    person: Person, storage: SqlStorage, tmp_path: Path
) -> None:
    person.send("/urgent")
    person.walk("Start the questions", "No", "Yes")  # fever_hot_joint
    consent_and_answer(person)
    person.send("2")  # hurts: sitting... (any answer to the next question)
    path = tmp_path / "hipbot.db"
    for checkpointed in (False, True):
        if checkpointed:
            storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = raw_bytes(path)
        assert raw  # the file and its log were read
        for secret in [*SECRET_VALUES, "Question 2 of 6", "rated your pain"]:
            assert secret.encode() not in raw, f"{secret!r} is in the file in plain text"
    # the same answers are there, sealed: the key opens them
    record = storage.session_record(USER)
    assert record is not None and record["answers"]["signs"] == ["stiffness", "clicking"]
    flag = storage.db.one("SELECT data FROM red_flag_audit")[0]
    assert (
        crypto.is_sealed(flag)
        and crypto.decrypt_json(storage.db, flag)["flag"] == "fever_hot_joint"
    )


def test_the_key_lives_outside_the_database(storage: SqlStorage, tmp_path: Path) -> None:
    key_file = tmp_path / "hipbot.db.key"
    assert storage.codec.path == key_file and key_file.stat().st_mode & 0o077 == 0
    key = key_file.read_text().split("\n")[1].strip()
    raw = sqlite3.connect(tmp_path / "hipbot.db")
    try:
        dump = "\n".join(raw.iterdump())
    finally:
        raw.close()
    assert key not in dump


def test_data_key_from_the_environment_and_a_wrong_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundle: Bundle
) -> None:
    first = crypto.new_key()
    monkeypatch.setenv(crypto.KEY_ENV, first)
    path = str(tmp_path / "env.db")
    store = SqlStorage(path)
    assert store.codec.origin == crypto.KEY_ENV and not Path(path + ".key").exists()
    engine = Engine(bundle)
    store.commit_turn(engine.handle(None, Event.start(), USER).session)
    store.close()
    monkeypatch.setenv(crypto.KEY_ENV, crypto.new_key())
    with pytest.raises(crypto.DataKeyError, match="cannot be opened with the data key"):
        SqlStorage(path)
    monkeypatch.setenv(crypto.KEY_ENV, "not-a-key")
    with pytest.raises(ConfigError, match=r"HIPBOT_DATA_KEY=\(hidden\) is not accepted"):
        SqlStorage(path)
    monkeypatch.setenv(crypto.KEY_ENV, f"{crypto.new_key()},{first}")  # new first, old after
    store = SqlStorage(path)
    assert store.load_session(USER) is not None
    store.close()


def test_a_database_from_before_encryption_still_opens_and_rotation_seals_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(crypto.KEY_ENV, crypto.new_key())
    path = tmp_path / "old.db"
    store = SqlStorage(str(path))
    store.db.execute(
        "INSERT INTO sessions (user_id, data, revision, updated_at) VALUES (?, ?, 1, 0)",
        (USER, json.dumps({"user_id": USER, "flow": "hip", "version": 1, "step": "menu",
                           "answers": {"signs": ["clicking"]}})),
    )  # fmt: skip
    assert store.load_session(USER).answers == {"signs": ["clicking"]}  # type: ignore[union-attr]
    done = crypto.reseal_all(store.db, store.codec)
    assert done["sessions"] == 1
    assert crypto.is_sealed(store.db.one("SELECT data FROM sessions")[0])
    assert store.load_session(USER).answers == {"signs": ["clicking"]}  # type: ignore[union-attr]
    store.close()


@BOTH
def test_key_rotation_reseals_every_value_with_the_new_key(
    person: Person, storage: SqlStorage
) -> None:
    person.send("/urgent")
    person.walk("Start the questions", "No", "Yes")
    consent_and_answer(person)
    old = storage.codec
    before = storage.db.one("SELECT data FROM sessions WHERE user_id = ?", (USER,))[0]
    new = crypto.Codec([crypto.new_key().encode(), *old.keys])
    done = crypto.reseal_all(storage.db, new)
    assert done["sessions"] == 1 and done["journal"] >= 2 and done["outbox"] >= 10
    assert done["red_flag_audit"] == 1
    only_new = crypto.Codec(new.keys[:1])
    for table, column in (("sessions", "data"), ("journal", "data"), ("outbox", "params"),
                          ("red_flag_audit", "data")):  # fmt: skip
        for (value,) in storage.db.all(f"SELECT {column} FROM {table}"):
            only_new.open(value)  # every value opens without the old key
    after = storage.db.one("SELECT data FROM sessions WHERE user_id = ?", (USER,))[0]
    assert after != before
    with pytest.raises(crypto.DataKeyError):
        crypto.Codec(old.keys).open(after)


# ---------------------------------------------------------------- retention


@BOTH
def test_purge_erases_people_inactive_longer_than_the_retention(
    bundle: Bundle, storage: SqlStorage, clock: Clock
) -> None:
    old = Person(Engine(bundle), storage, load_features(), clock, user_id=OTHER)
    consent_and_answer(old)
    clock.now = T0 + 200 * DAY
    recent = Person(Engine(bundle), storage, load_features(), clock)
    consent_and_answer(recent)
    now = T0 + 366 * DAY
    assert inactive_since(now, 365) == T0 + DAY
    assert purge(storage, now, 365, dry_run=True) == 1 and storage.load_session(OTHER)
    assert purge(storage, now, 365) == 1
    assert walk_tables(storage, OTHER) == {}
    assert storage.load_session(USER) is not None and consents(storage, USER)


@BOTH
def test_the_daily_purge_job_runs_once_a_day_with_the_configured_days(
    bundle: Bundle, storage: SqlStorage, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIPBOT_RETENTION_DAYS", "30")
    features = load_features()
    someone = Person(Engine(bundle), storage, features, clock)
    consent_and_answer(someone)
    ports = features.ports(storage)
    purge_job(ports, T0 + 29.9 * DAY)  # runs: nobody is 30 days inactive yet
    purge_job(ports, T0 + 30.2 * DAY)  # inactive now, but the job ran less than a day ago
    assert storage.load_session(USER) is not None
    purge_job(ports, T0 + 30.95 * DAY)  # a day after its last run it runs again
    assert storage.load_session(USER) is None


@pytest.mark.parametrize("value", ["0", "-3", "a year", "1e3"])
def test_a_wrong_retention_setting_is_named(value: str) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="HIPBOT_RETENTION_DAYS"):
        load_settings({"HIPBOT_RETENTION_DAYS": value})


# ---------------------------------------------------------------- red flags and clinics


def _clinic(storage: SqlStorage, ref: str | None, alerts: bool) -> int:
    clinics = ClinicStore(storage.db)
    clinic = clinics.add_clinic("Hip Clinic", T0)
    clinics.add_staff(clinic.id, STAFF, "admin", T0)
    clinics.link(clinic.id, USER, ref, T0)
    if alerts:
        storage.db.execute(
            "INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)", (clinic.id, T0)
        )
    return clinic.id


def _staff_messages(storage: SqlStorage) -> list[str]:
    rows = storage.claim_outbox(1000, T0 + 10)
    return [row.params["text"] for row in rows if row.chat_id == int(STAFF)]


@BOTH
def test_a_red_flag_is_audited_and_an_opted_in_clinic_is_told_without_health_details(
    person: Person, storage: SqlStorage
) -> None:
    _clinic(storage, "P-1042", alerts=True)
    person.send("/urgent")  # told when joining (tests/test_content_kit.py), not asked here
    assert "clinic" not in person.text()
    person.walk("Start the questions", "No", "Yes")
    (audit,) = storage.db.all("SELECT user_id, data, at, clinics_alerted FROM red_flag_audit")
    assert audit[0] == USER and audit[2] == T0 and audit[3] == 1
    assert crypto.decrypt_json(storage.db, audit[1]) == {
        "flag": "fever_hot_joint",
        "step": "rf_fever_yes",
    }
    (message,) = _staff_messages(storage)
    assert "P-1042" in message and "urgent symptom" in message and "contact them" in message
    for health in ("fever", "infection", "hip is hot", USER):
        assert health not in message
    assert message == CLINIC_ALERT.format(ref="<b>P-1042</b>")


@BOTH
def test_a_see_a_doctor_soon_flag_is_not_sent_as_urgent(
    person: Person, storage: SqlStorage
) -> None:
    _clinic(storage, "P-1042", alerts=True)
    person.send("/urgent")
    person.walk("Start the questions", *["No"] * 6, "Yes")  # cancer: a doctor within days
    (message,) = _staff_messages(storage)
    assert message == CLINIC_NOTICE.format(ref="<b>P-1042</b>")
    assert "urgent" not in message and "not an emergency" in message


@pytest.mark.parametrize(
    ("ref", "alerts"), [("P-1042", False), (None, True)], ids=["not opted in", "no reference"]
)
def test_no_alert_without_an_opted_in_clinic_and_a_reference(
    person: Person, storage: SqlStorage, ref: str | None, alerts: bool
) -> None:
    _clinic(storage, ref, alerts)
    person.send("/urgent")
    person.walk("Start the questions", "Yes")
    assert storage.db.one("SELECT clinics_alerted FROM red_flag_audit")[0] == 0
    assert _staff_messages(storage) == []


def test_a_patient_who_left_the_clinic_is_not_reported(person: Person, storage: SqlStorage) -> None:
    clinic_id = _clinic(storage, "P-1042", alerts=True)
    ClinicStore(storage.db).leave(clinic_id, USER, T0)
    person.send("/urgent")
    person.walk("Start the questions", "Yes")
    assert _staff_messages(storage) == []


def test_the_red_flag_intros_ask_nobody_about_clinic_links(bundle: Bundle) -> None:
    """Only a patient whose clinic gets alerts reads about them, when joining (issue 12)."""
    for step_id in ("check_start", "rf_intro"):
        said = " ".join(m.text.get("en") for m in bundle.flows["hip"].steps[step_id].say)
        assert "clinic" not in said


# ---------------------------------------------------------------- logs


def test_log_ids_are_keyed_hashes(storage: SqlStorage) -> None:
    hashed = logs.hash_id(USER)
    assert USER not in hashed and len(hashed) == 16
    logs.set_pepper(b"another key")
    try:
        assert logs.hash_id(USER) != hashed  # without the key, the hash cannot be redone
    finally:
        logs.set_pepper(storage.codec.pepper())
    assert logs.hash_id(USER) == hashed


# ---------------------------------------------------------------- the benchmark


def test_privacy_bench_ends_with_one_json_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import privacy as bench

    monkeypatch.setattr(bench, "PEOPLE", 20)
    monkeypatch.setattr(bench, "TURNS", 20)
    assert bench.run(json=True) == 0
    *table_lines, last = capsys.readouterr().out.rstrip("\n").splitlines()
    figures = json.loads(last)
    for key in ("seal_us", "open_us", "turn_us", "turn_plain_us", "delete_ms"):
        assert figures[key] > 0, key
    assert figures["rotate_values"] == 20 + 20 + 2 * 20 + 1  # sessions, journal, outbox
    assert any(line.startswith("turn_overhead_us") for line in table_lines)


# ---------------------------------------------------------------- the command line


def hipbot(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HIPBOT_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    clean.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _cli_db(tmp_path: Path, bundle: Bundle, updated_at: float = T0) -> None:
    store = SqlStorage(str(tmp_path / "cli.db"))
    load_features().setup(store)
    store.commit_turn(Engine(bundle).handle(None, Event.start(), USER).session, now=updated_at)
    store.close()


def test_keys_rotate_puts_a_new_key_in_the_file_and_reseals_everything(
    tmp_path: Path, bundle: Bundle
) -> None:
    _cli_db(tmp_path, bundle)
    key_file = tmp_path / "cli.db.key"
    old_keys = crypto.load_codec(str(tmp_path / "cli.db")).keys
    result = hipbot("keys", "rotate", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"new key in {key_file}" in result.stdout and "sessions 1" in result.stdout
    new = crypto.load_codec(str(tmp_path / "cli.db"))
    assert len(new.keys) == 1 and new.keys[0] not in old_keys
    store = SqlStorage(str(tmp_path / "cli.db"))  # opens with the new key alone
    try:
        assert store.load_session(USER) is not None
        sealed = store.db.one("SELECT data FROM sessions")[0]
    finally:
        store.close()
    with pytest.raises(crypto.DataKeyError):
        crypto.Codec(old_keys).open(sealed)


def test_keys_new_prints_a_usable_key(tmp_path: Path) -> None:
    result = hipbot("keys", "new", tmp_path=tmp_path)
    assert result.returncode == 0
    codec = crypto.Codec([result.stdout.strip().encode()])
    assert codec.open(codec.seal("x")) == "x"


def test_purge_on_the_command_line(tmp_path: Path, bundle: Bundle) -> None:
    _cli_db(tmp_path, bundle, updated_at=1.0)  # inactive for decades
    dry = hipbot("purge", "--dry-run", tmp_path=tmp_path)
    assert dry.returncode == 0 and "would erase 1 person(s)" in dry.stdout
    done = hipbot("purge", tmp_path=tmp_path, HIPBOT_RETENTION_DAYS="30")
    assert (
        done.returncode == 0 and "erased 1 person(s) inactive for more than 30 days" in done.stdout
    )
    store = SqlStorage(str(tmp_path / "cli.db"))
    try:
        assert store.load_session(USER) is None
    finally:
        store.close()
    wrong = hipbot("purge", tmp_path=tmp_path, HIPBOT_RETENTION_DAYS="soon")
    assert wrong.returncode == 2 and "HIPBOT_RETENTION_DAYS='soon'" in wrong.stderr


def test_clinic_alerts_are_switched_on_the_command_line(tmp_path: Path, bundle: Bundle) -> None:
    _cli_db(tmp_path, bundle)
    store = SqlStorage(str(tmp_path / "cli.db"))
    clinic = ClinicStore(store.db).add_clinic("Hip Clinic", T0)
    store.close()
    assert hipbot("alerts", "on", clinic.code, tmp_path=tmp_path).returncode == 0
    listed = hipbot("alerts", "list", tmp_path=tmp_path)
    assert f"clinic {clinic.id}: alerts on since" in listed.stdout
    assert hipbot("alerts", "off", str(clinic.id), tmp_path=tmp_path).returncode == 0
    assert "no clinic gets red-flag alerts" in hipbot("alerts", "list", tmp_path=tmp_path).stdout
    missing = hipbot("alerts", "on", "Nowhere Clinic", tmp_path=tmp_path)
    assert missing.returncode == 1 and "no clinic 'Nowhere Clinic'" in missing.stderr


def test_hipbot_chat_shows_consent_mydata_and_delete(tmp_path: Path) -> None:
    from bot.console import console_chat_id

    script = "\n".join(
        [
            "/check",
            "Start",
            *["No"] * 8,
            "Check my symptoms",
            "16 or older",
            "I agree",
            "Stiffness",
            "Done",
            "7",
            "/mydata",
            "/delete",
            "Yes, erase it all",
            "",
        ]
    )
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=script,
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("HIPBOT_")},
            "HIPBOT_DATA_DIR": str(data),
            "DATABASE_URL": f"sqlite:///{data / 'hipbot.db'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "May I save your answers?" in out and "Thank you. Let's start." in out
    assert "All I keep about you, as a file." in out and "Erase all I keep about you?" in out
    assert "I have erased all I kept about you" in out
    (saved,) = data.glob("hipbot-my-data-*.json")
    answers = {a["question"]: a["answer"] for a in json.loads(saved.read_text())["answers"]}
    assert answers["signs"] == ["stiffness"] and answers["pain_now"] == 7
    store = SqlStorage(str(data / "hipbot.db"))
    try:
        load_features().setup(store)
        assert walk_tables(store, str(console_chat_id("me"))) == {}
    finally:
        store.close()
