"""Clinics: linking by deep link, leaving, staff roles, tenant isolation, audiences, "<5".

Tests that keep data run on a SQLite file and on a fresh PostgreSQL database (``database``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import FlowErrors
from bot.features import Response
from bot.features.clinics import broadcast as bc
from bot.features.clinics.rules import (
    EVERYONE,
    WEEK,
    Audience,
    Person,
    check_patient_ref,
    deep_link,
    load_audiences,
    patient_message,
    select,
    shown,
)
from bot.loader import load_bundle
from bot.model import AnswerTest, Event
from bot.settings import check_bot_username
from bot.telegram_html import check_html
from tests.fakes.clinics import FLOWS, World

STAFF_A, STAFF_B, EDITOR_A = 900_001, 900_002, 900_003


def reply_text(response: Response) -> str:
    """What the person reads (and the HTML must be valid: check_html raises otherwise)."""
    parts = [reply.text for reply in response.replies]
    if response.edit is not None:
        parts.insert(0, response.edit.text)
    return "\n".join(check_html(part) for part in parts)


def labels(response: Response) -> list[str]:
    return [label for reply in response.replies for label in reply.button_labels()]


def button_data(response: Response, label: str) -> str:
    for reply in response.replies:
        for row in reply.buttons:
            for button in row:
                if button.label == label:
                    return button.data
    raise AssertionError(f"no button {label!r} in {labels(response)}")


# ---------------------------------------------------------------- codes and links


def test_a_clinic_gets_a_code_for_its_deep_link(world: World) -> None:
    clinic = world.clinic("  Hip   Clinic Nord ")
    assert clinic.name == "Hip Clinic Nord"
    assert clinic.code.startswith("c_") and len(clinic.code) == 12
    link = deep_link("@hip_bot", clinic.code)
    assert link == f"https://t.me/hip_bot?start={clinic.code}"
    assert world.clinic("Other").code != clinic.code


def test_patient_refs_are_opaque_codes_never_names() -> None:
    assert check_patient_ref(" P-1042 ") == "P-1042"
    with pytest.raises(ValueError, match="looks like a name"):
        check_patient_ref("Anna")
    with pytest.raises(ValueError, match="never a name"):
        check_patient_ref("Anna Smith 1")
    with pytest.raises(ValueError, match="4-32"):
        check_bot_username("x!")
    assert check_bot_username("@hip_bot") == "hip_bot"


# ---------------------------------------------------------------- joining and leaving


def test_a_patient_who_starts_through_a_clinic_link_is_asked_to_join(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.start(101, clinic.code)
    question = world.messages_to(101)
    assert len(question) == 1
    assert "Do you want messages from Hip Clinic?" in question[0]["text"]
    keyboard = question[0]["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == f"x:cj:{clinic.code}"
    assert not world.store.is_linked(clinic.id, "101")  # asked, not yet linked
    answer = world.press(101, f"x:cj:{clinic.code}")
    assert "You will get messages from Hip Clinic" in reply_text(answer)
    assert [link.user_id for link in world.store.patients(clinic.id)] == ["101"]
    assert world.store.patients(clinic.id)[0].patient_ref is None


def test_the_join_question_comes_after_the_welcome_of_the_same_start(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    session = world.storage.load_session("102")
    outcome = world.engine.handle(session, Event.start(clinic.code), "102")
    welcome = [(102, "sendMessage", {"chat_id": 102, "text": r.text}) for r in outcome.replies]
    world.storage.commit_turn(outcome.session, outcome.effects, welcome, world.now)
    texts = [params["text"] for params in world.messages_to(102)]
    assert len(texts) == len(welcome) + 1
    assert "Do you want messages" in texts[-1]


def test_a_plain_start_or_an_unknown_code_asks_nothing(world: World) -> None:
    world.clinic("Hip Clinic")
    world.start(103)
    world.start(104, "c_doesnotexist")
    world.start(105, "ref_42")
    assert world.outbox() == []


def test_someone_already_linked_is_not_asked_again(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.join(106, clinic.code)
    world.outbox()  # the first question
    world.storage.db.execute("DELETE FROM outbox")
    world.start(106, clinic.code)
    assert world.outbox() == []


def test_no_thanks_does_not_link(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.start(107, clinic.code)
    answer = world.press(107, f"x:cn:{clinic.id}")
    assert "will not get messages from Hip Clinic" in reply_text(answer)
    assert world.store.patients(clinic.id) == []


def test_a_personal_link_carries_the_clinics_reference_for_one_patient(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    code = world.store.add_invite(clinic.id, "P-1042", world.now)
    assert code.startswith("p_") and len(code) <= 64
    world.join(108, code)
    (link,) = world.store.patients(clinic.id)
    assert (link.user_id, link.patient_ref) == ("108", "P-1042")
    # a forwarded personal link: the next person joins the clinic, without that reference
    world.join(109, code)
    refs = {link.user_id: link.patient_ref for link in world.store.patients(clinic.id)}
    assert refs == {"108": "P-1042", "109": None}


def test_leave_ends_the_link(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.join(110, clinic.code)
    answer = world.command(110, "leave")
    assert "will not get messages from Hip Clinic any more" in reply_text(answer)
    assert world.store.patients(clinic.id) == []
    assert reply_text(world.command(110, "leave")) == "You do not get messages from any clinic."
    world.join(110, clinic.code)  # joining again works, and keeps the first date
    assert world.store.is_linked(clinic.id, "110")


def test_leave_asks_which_clinic_when_there_are_several(world: World) -> None:
    a, b = world.clinic("Clinic A"), world.clinic("Clinic B")
    world.join(111, a.code)
    world.join(111, b.code)
    answer = world.command(111, "leave")
    assert labels(answer) == ["Clinic A", "Clinic B"]
    world.press(111, button_data(answer, "Clinic B"))
    assert world.store.is_linked(a.id, "111") and not world.store.is_linked(b.id, "111")


def test_delete_and_mydata_cover_clinic_links(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    code = world.store.add_invite(clinic.id, "P-7", world.now)
    world.join(112, code)
    exported = world.storage.export_user("112")["clinics"]
    assert exported["links"][0]["clinic"] == "Hip Clinic"
    assert exported["links"][0]["patient_ref"] == "P-7"
    world.storage.delete_user("112")
    assert world.store.patients(clinic.id) == []
    assert world.storage.export_user("112")["clinics"]["links"] == []


def test_delete_of_a_staff_member_removes_their_role_and_their_id(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, str(STAFF_A), "admin", world.now)
    sent = queue_broadcast(world, clinic.id, STAFF_A)
    world.command(STAFF_A, "broadcast")  # a draft and an open wizard
    world.storage.delete_user(str(STAFF_A))
    assert world.store.roles_of(str(STAFF_A)) == {}
    assert world.store.wizard(str(STAFF_A)) is None
    kept = world.store.recent(clinic.id)
    assert [b.id for b in kept] == [sent]  # the clinic keeps what was sent, not who sent it
    assert (kept[0].author, kept[0].report_to) == ("", None)
    rows = world.storage.db.all("SELECT author, report_to FROM clinic_broadcasts")
    assert str(STAFF_A) not in repr(rows)


# ---------------------------------------------------------------- staff commands and roles


@pytest.mark.parametrize("name", ["broadcast", "broadcasts", "cancel", "stats"])
def test_staff_commands_are_unknown_commands_for_everyone_else(world: World, name: str) -> None:
    clinic = world.clinic("Hip Clinic")
    world.join(120, clinic.code)
    response = world.command(120, name, "12")
    assert response.replies == [] and response.edit is None
    assert response.then == Event.command_named(name, "12")
    # and that event gets exactly the engine's answer to a command it does not know
    session = world.storage.load_session("120")
    feature_answer = world.engine.handle(session, response.then, "120")
    unknown_answer = world.engine.handle(session, Event.command_named("nosuchcommand"), "120")
    assert [r.text for r in feature_answer.replies] == [r.text for r in unknown_answer.replies]


def test_staff_buttons_are_stale_buttons_for_everyone_else(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, str(STAFF_A), "admin", world.now)
    draft = world.store.create_draft(clinic.id, str(STAFF_A), world.now)
    for data in (f"x:bw:y.{draft}", f"x:bx:{clinic.id}.{draft}"):
        response = world.press(121, data)
        assert response.then == Event.button(data)
        assert response.replies == []


def test_removed_staff_lose_the_commands(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, str(STAFF_A), "admin", world.now)
    assert world.command(STAFF_A, "stats").then is None
    assert world.store.remove_staff(clinic.id, str(STAFF_A))
    assert world.command(STAFF_A, "stats").then == Event.command_named("stats")
    with pytest.raises(ValueError, match="admin or editor"):
        world.store.add_staff(clinic.id, str(STAFF_A), "owner", world.now)
    with pytest.raises(ValueError, match="not a Telegram user id"):
        world.store.add_staff(clinic.id, "alice", "admin", world.now)


def queue_broadcast(world: World, clinic_id: int, author: int, text: str = "Hi") -> int:
    draft = world.store.create_draft(clinic_id, str(author), world.now)
    world.store.update_draft(clinic_id, draft, text=text, audience="all")
    assert (
        bc.queue(world.storage, clinic_id, draft, EVERYONE, None, world.now, str(author))
        is not None
    )
    return draft


def test_an_editor_stops_only_their_own_broadcasts_an_admin_any(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.patients(clinic, 200, 3)
    world.store.add_staff(clinic.id, str(STAFF_A), "admin", world.now)
    world.store.add_staff(clinic.id, str(EDITOR_A), "editor", world.now)
    by_admin = queue_broadcast(world, clinic.id, STAFF_A)
    by_editor = queue_broadcast(world, clinic.id, EDITOR_A)
    offered = labels(world.command(EDITOR_A, "cancel"))
    assert offered == [f"Stop #{by_editor} (all)"]
    refused = world.press(EDITOR_A, f"x:bx:{clinic.id}.{by_admin}")
    assert "not yours to stop" in reply_text(refused)
    assert "not yours to stop" not in reply_text(world.command(EDITOR_A, "cancel", str(by_editor)))
    assert world.store.broadcast(clinic.id, by_editor).state == "cancelled"
    assert world.store.broadcast(clinic.id, by_admin).state == "queued"
    world.press(STAFF_A, f"x:bx:{clinic.id}.{by_admin}")
    assert world.store.broadcast(clinic.id, by_admin).state == "cancelled"
    assert reply_text(world.command(STAFF_A, "cancel")) == "Nothing is being sent right now."


# ---------------------------------------------------------------- tenant isolation


@pytest.fixture
def two_clinics(world: World) -> tuple[World, int, int]:
    a, b = world.clinic("Clinic A"), world.clinic("Clinic B")
    world.patients(a, 300, 6)  # 300..305 in A
    world.patients(b, 400, 7)  # 400..406 in B
    world.join(500, a.code)  # 500 is a patient of both
    world.join(500, b.code)
    world.store.add_staff(a.id, str(STAFF_A), "admin", world.now)
    world.store.add_staff(b.id, str(STAFF_B), "admin", world.now)
    return world, a.id, b.id


def test_staff_count_only_their_own_clinics_patients(two_clinics: tuple[World, int, int]) -> None:
    world, a, _ = two_clinics
    stats = reply_text(world.command(STAFF_A, "stats"))
    assert "Clinic A" in stats and "Clinic B" not in stats
    assert "Linked patients: 7" in stats
    assert "Linked patients: 8" in reply_text(world.command(STAFF_B, "stats"))
    everyone = bc.recipients(world.storage, a, EVERYONE, world.now)
    assert sorted(p.user_id for p in everyone) == [*map(str, range(300, 306)), "500"]


def test_staff_broadcasts_reach_only_their_own_clinics_patients(
    two_clinics: tuple[World, int, int],
) -> None:
    world, a, b = two_clinics
    draft = queue_broadcast(world, a, STAFF_A, "Only for A")
    rows = world.storage.db.all("SELECT user_id, clinic_id FROM clinic_deliveries")
    assert {clinic for _, clinic in rows} == {a}
    assert sorted(user for user, _ in rows) == [*map(str, range(300, 306)), "500"]
    bc.sweep(world.storage, world.now, rate=1000)
    reached = {row.chat_id for row in world.outbox() if "_delivery" in row.params}
    assert reached == {*range(300, 306), 500}
    assert world.store.broadcast(b, draft) is None


def test_staff_never_see_or_stop_another_clinics_broadcasts(
    two_clinics: tuple[World, int, int],
) -> None:
    world, a, b = two_clinics
    b_broadcast = queue_broadcast(world, b, STAFF_B, "B's secret news")
    assert "B's secret news" not in reply_text(world.command(STAFF_A, "broadcasts"))
    assert f"#{b_broadcast}" not in reply_text(world.command(STAFF_A, "broadcasts"))
    assert f"#{b_broadcast}" in reply_text(world.command(STAFF_B, "broadcasts"))
    # a forged stop button naming B's clinic and broadcast does nothing
    forged = world.press(STAFF_A, f"x:bx:{b}.{b_broadcast}")
    assert "not yours to stop" in reply_text(forged)
    assert "no broadcast" in reply_text(world.command(STAFF_A, "cancel", str(b_broadcast)))
    assert world.store.broadcast(b, b_broadcast).state == "queued"
    assert world.store.counts(a, b_broadcast).total == 0
    assert world.store.counts(b, b_broadcast).total == 8


def test_a_forged_wizard_button_cannot_take_over_another_clinics_draft(
    two_clinics: tuple[World, int, int],
) -> None:
    world, _, b = two_clinics
    world.command(STAFF_B, "broadcast")
    b_draft = world.store.wizard(str(STAFF_B))["draft"]
    world.type(STAFF_B, "B's draft")
    world.command(STAFF_A, "broadcast")
    for action in ("a", "n", "y", "q"):
        answer = world.press(STAFF_A, f"x:bw:{action}.{b_draft}.all")
        assert "older draft" in reply_text(answer)
    assert world.store.broadcast(b, b_draft).state == "draft"
    assert world.store.broadcast(b, b_draft).text == "B's draft"


# ---------------------------------------------------------------- the wizard


def test_the_broadcast_wizard_from_text_to_queued(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.patients(clinic, 600, 6)
    world.store.add_staff(clinic.id, str(STAFF_A), "editor", world.now)
    ask = world.command(STAFF_A, "broadcast")
    assert "Send me the message" in reply_text(ask)
    bad = world.type(STAFF_A, "<b>Closed on Friday")
    assert bad is not None and "Telegram would refuse this text" in reply_text(bad)
    audiences = world.type(STAFF_A, "<b>Closed</b> on Friday &amp; Saturday.")
    assert audiences is not None and "Who should get it?" in reply_text(audiences)
    assert "All patients" in labels(audiences) and "Pain 7 or more" in labels(audiences)
    picked = world.press(STAFF_A, button_data(audiences, "All patients"))
    preview, question = picked.replies
    expected = patient_message("Hip Clinic", "<b>Closed</b> on Friday &amp; Saturday.", "x:cl:1")
    assert preview == expected  # exactly what patients get
    assert "It goes to 6 patients (All patients)" in question.text
    confirm = world.press(STAFF_A, button_data(picked, "Send now"))
    assert "Send it to 6 patients (All patients) now?" in reply_text(confirm)
    done = world.press(STAFF_A, button_data(confirm, "Yes, send it"))
    assert "goes out now to 6 patients" in reply_text(done)
    (sent,) = world.store.recent(clinic.id)
    assert (sent.state, sent.author, sent.report_to) == ("queued", str(STAFF_A), str(STAFF_A))
    assert world.store.counts(clinic.id, sent.id).pending == 6
    assert world.store.wizard(str(STAFF_A)) is None
    # confirming twice (a second tap) sends nothing more
    again = world.press(STAFF_A, button_data(confirm, "Yes, send it"))
    assert "older draft" in reply_text(again)
    assert world.store.counts(clinic.id, sent.id).total == 6


def test_the_wizard_survives_a_restart_and_schedules_at_a_local_time(database: str) -> None:
    world = World(database)
    clinic = world.clinic("Hip Clinic")
    world.patients(clinic, 700, 2)
    world.store.add_staff(clinic.id, str(STAFF_A), "admin", world.now)
    world.command(STAFF_A, "broadcast")
    world.type(STAFF_A, "Tips for the holidays.")
    world = world.restart()
    audiences = world.command(STAFF_A, "broadcasts")  # other commands leave the draft alone
    assert "No broadcasts yet." in reply_text(audiences)
    draft = world.store.wizard(str(STAFF_A))["draft"]
    picked = world.press(STAFF_A, f"x:bw:a.{draft}.all")
    assert "&lt;5 patients" in picked.replies[1].text  # small counts are masked: "<5"
    world = world.restart()
    asked = world.press(STAFF_A, button_data(picked, "Pick a time"))
    assert "Type the time" in reply_text(asked)
    wrong = world.type(STAFF_A, "25:99")
    assert wrong is not None and "is not a time" in reply_text(wrong)
    confirm = world.type(STAFF_A, "09:30")
    assert confirm is not None and "at 09:30, in each patient's own time zone" in reply_text(
        confirm
    )
    world.press(STAFF_A, button_data(confirm, "Yes, send it"))
    broadcast = world.store.broadcast(clinic.id, draft)
    assert broadcast is not None and broadcast.at_time == "09:30"
    due = {r[0] for r in world.storage.db.all("SELECT due_at FROM clinic_deliveries")}
    assert due == {world.now + 90 * 60}  # NOW is 08:00 UTC: today 09:30 UTC
    world.storage.close()


def test_text_goes_to_the_engine_when_no_wizard_waits(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, str(STAFF_A), "admin", world.now)
    assert world.type(STAFF_A, "hello") is None
    world.command(STAFF_A, "broadcast")
    assert world.type(STAFF_A, "/menu") is None  # commands are never taken as the text
    cancelled = world.press(STAFF_A, button_data(world.command(STAFF_A, "broadcast"), "Cancel"))
    assert "nothing was sent" in reply_text(cancelled)
    assert world.type(STAFF_A, "hello") is None
    assert world.store.recent(clinic.id) == []


def test_staff_of_several_clinics_pick_one_first(world: World) -> None:
    a, b = world.clinic("Clinic A"), world.clinic("Clinic B")
    world.store.add_staff(a.id, str(STAFF_A), "admin", world.now)
    world.store.add_staff(b.id, str(STAFF_A), "editor", world.now)
    which = world.command(STAFF_A, "broadcast")
    assert labels(which) == ["Clinic A", "Clinic B"]
    world.press(STAFF_A, button_data(which, "Clinic B"))
    assert world.store.wizard(str(STAFF_A))["clinic"] == b.id


# ---------------------------------------------------------------- audiences


def test_audiences_select_by_answers_weeks_and_language(world: World) -> None:
    found = load_audiences(FLOWS)
    assert {
        "all",
        "sitting_pain",
        "high_pain",
        "new_patients",
        "three_months_in",
        "english",
    } <= set(found)
    now = world.now
    people = [
        Person("1", now, {"hurts": ["sitting", "stairs"], "pain_now": 8}),
        Person("2", now - 13 * WEEK, {"hurts": ["stairs"], "pain_now": 7}),
        Person("3", now - 5 * WEEK, {"pain_now": 6}, language="de"),
        Person("4", now - 2 * WEEK, {}),
    ]

    def ids(name: str) -> list[str]:
        return [p.user_id for p in select(people, found[name], now)]

    assert ids("all") == ["1", "2", "3", "4"]
    assert ids("sitting_pain") == ["1"]
    assert ids("high_pain") == ["1", "2"]
    assert ids("new_patients") == ["1", "4"]
    assert ids("three_months_in") == ["2"]
    assert ids("english") == ["1", "2", "4"]
    combined = Audience("x", "x", AnswerTest("pain_now", "at_least", 7), min_weeks=1)
    assert [p.user_id for p in select(people, combined, now)] == ["2"]


def test_recipients_use_stored_answers_and_leave_out_stopped_people(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.patients(clinic, 800, 4)
    world.answer(800, hurts=["sitting"], pain_now=9)
    world.answer(801, hurts=["stairs"], pain_now=3)
    world.answer(802, hurts=["sitting"], pain_now=2)
    world.storage.set_flag("802", "stopped", True)  # sent /stop: no proactive messages
    found = load_audiences(FLOWS)
    sitting = bc.recipients(world.storage, clinic.id, found["sitting_pain"], world.now)
    assert [p.user_id for p in sitting] == ["800"]
    everyone = bc.recipients(world.storage, clinic.id, EVERYONE, world.now)
    assert [p.user_id for p in everyone] == ["800", "801", "803"]


def write(folder: Path, text: str) -> Path:
    (folder / "audiences.yaml").write_text(text, encoding="utf-8")
    for name in ("hip.yaml", "tips.yaml"):
        (folder / name).write_text((FLOWS / name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_validate_reports_every_audience_problem_with_its_path(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        "audiences:\n"
        "  sore:\n    label: Sore\n    if: {answer: pain_nwo, at_least: 7}\n"
        "  weeks:\n    label: Weeks\n    weeks_since_joining: {at_least: 8, at_most: 2}\n"
        "  empty:\n    label: Nobody said who\n"
        "  all:\n    label: Everyone\n    language: [en]\n",
    )
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])
    text = str(caught.value)
    assert "audiences > sore > if: no step saves an answer named 'pain_nwo'" in text
    assert "did you mean 'pain_now'?" in text
    assert "audiences > weeks > weeks_since_joining: at_least 8 is more than at_most 2" in text
    assert "audiences > empty: give at least one of" in text
    assert "audiences > all: 'all' is built in" in text


def test_validate_names_unknown_keys_in_audiences(tmp_path: Path) -> None:
    folder = write(tmp_path, "audiences:\n  x:\n    label: X\n    langauge: [en]\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "unknown key 'langauge' (did you mean 'language'?)" in result.stderr


def test_the_shipped_audiences_validate() -> None:
    bundle = load_bundle([FLOWS])
    assert bundle.flows  # and no FlowErrors: flows/audiences.yaml is valid


# ---------------------------------------------------------------- small counts


def test_counts_below_five_are_shown_as_less_than_five(world: World) -> None:
    assert [shown(n) for n in range(7)] == ["<5", "<5", "<5", "<5", "<5", "5", "6"]
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, str(STAFF_A), "admin", world.now)
    world.patients(clinic, 850, 3)
    world.turn(850, Event.timer_named("hip:sx_summary"))  # finished the symptom check
    stats = reply_text(world.command(STAFF_A, "stats"))
    assert "Linked patients: <5" in stats
    assert "Finished the symptom check: <5" in stats
    world.patients(clinic, 860, 3)
    for user in (860, 861, 862, 851, 852):
        world.turn(user, Event.timer_named("hip:sx_summary"))
    stats = reply_text(world.command(STAFF_A, "stats"))
    assert "Linked patients: 6" in stats
    assert "Active in the last 30 days: 6" in stats
    assert "Finished the symptom check: 6" in stats
    world.command(861, "leave")
    assert "Linked patients: 5" in reply_text(world.command(STAFF_A, "stats"))


def test_what_patients_read_from_clinics_is_plain() -> None:
    """The join question, the answers to it and /leave are patient-facing text outside the
    flows, so `hipbot lint` does not see them: the same targets, measured here."""
    import textstat

    from bot.features.clinics import rules as clinics
    from bot.lint import ensure_offline_cmudict

    ensure_offline_cmudict()
    name = "Hip Clinic"
    said = [
        clinics.join_question(name),
        clinics.joined(name),
        clinics.declined(name),
        clinics.left(name),
        clinics.not_linked(),
        clinics.which_to_leave(),
    ]
    text = "\n".join(check_html(t) for t in said)
    assert textstat.flesch_kincaid_grade(text) <= 6
    assert textstat.flesch_reading_ease(text) >= 70
    assert max(textstat.flesch_kincaid_grade(check_html(t)) for t in said) <= 8
