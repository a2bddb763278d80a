"""Broadcasts: delivery rows, the sweep, outcomes, resuming after a kill, the report, times.

The real ``OutboxSender`` sends through ``FakeBot`` (tests/fakes/clinics.py), with the clock
injected; nothing here waits on real time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bot import broadcast as bc
from bot.broadcast import LocalTime, local_due, outbox_window, parse_local_time
from bot.clinics import EVERYONE
from bot.reminders import QuietHours
from bot.sender import OutboxSender
from bot.telegram_html import check_html
from tests.fakes.clinics import NOW, FakeBot, World

AUTHOR = 990_001
FAST = 10_000.0  # a sender rate whose limiter never makes a test wait


def setup_clinic(world: World, patients: int, first: int = 1000) -> tuple[int, list[int]]:
    clinic = world.clinic("Hip Clinic")
    users = world.patients(clinic, first, patients)
    world.store.add_staff(clinic.id, str(AUTHOR), "admin", world.now)
    world.storage.db.execute("DELETE FROM outbox")  # the join questions, already answered
    return clinic.id, users


def queue(
    world: World, clinic_id: int, text: str = "Clinic news", at: LocalTime | None = None
) -> int:
    draft = world.store.create_draft(clinic_id, str(AUTHOR), world.now)
    world.store.update_draft(clinic_id, draft, text=text, audience="all")
    count = bc.queue(world.storage, clinic_id, draft, EVERYONE, at, world.now, str(AUTHOR))
    assert count is not None
    return draft


def sender_for(world: World, bot: FakeBot) -> OutboxSender:
    return OutboxSender(world.storage, bot, FAST, clock=lambda: world.now)  # type: ignore[arg-type]


async def run_until_quiet(world: World, bot: FakeBot, rate: float = 30.0) -> None:
    """Sweep and send until nothing is left to do (what `hipbot run` does every 2 s)."""
    sender = sender_for(world, bot)
    for _ in range(1000):
        queued = bc.sweep(world.storage, world.now, rate)
        sent = await sender.send_due()
        if not queued and not sent:
            return
    raise AssertionError("the broadcast never finished")


def delivery_states(world: World, broadcast_id: int) -> Counter[str]:
    rows = world.storage.db.all(
        "SELECT state FROM clinic_deliveries WHERE broadcast_id = ?", (broadcast_id,)
    )
    return Counter(state for (state,) in rows)


# ---------------------------------------------------------------- delivery rows and the sweep


def test_one_pending_delivery_per_recipient() -> None:
    world = World()
    clinic_id, users = setup_clinic(world, 12)
    draft = queue(world, clinic_id)
    assert world.store.broadcast(clinic_id, draft).state == "queued"
    rows = world.storage.db.all(
        "SELECT user_id, state, due_at, outboxed_at FROM clinic_deliveries ORDER BY user_id"
    )
    assert [r[0] for r in rows] == [str(u) for u in users]
    assert {(r[1], r[2], r[3]) for r in rows} == {("pending", NOW, None)}


def test_the_sweep_hands_over_at_most_a_window_at_priority_ten() -> None:
    world = World()
    clinic_id, _ = setup_clinic(world, 50)
    draft = queue(world, clinic_id)
    assert outbox_window(5) == 20
    assert bc.sweep(world.storage, world.now, rate=5) == 20
    assert bc.sweep(world.storage, world.now, rate=5) == 0  # the window is full
    rows = world.storage.db.all("SELECT priority FROM outbox")
    assert [p for (p,) in rows] == [10] * 20
    claimed = world.outbox()
    assert all(row.params["_delivery"] > 0 for row in claimed)
    assert claimed[0].params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Stop these messages",
        "callback_data": f"x:cl:{clinic_id}",
    }
    assert "allow_paid_broadcast" not in claimed[0].params
    assert world.store.broadcast(clinic_id, draft).state == "sending"


def test_replies_go_before_a_queued_broadcast() -> None:
    world = World()
    clinic_id, _ = setup_clinic(world, 30)
    queue(world, clinic_id)
    bc.sweep(world.storage, world.now, rate=30)
    world.storage.commit_outbox(
        [(77, "sendMessage", {"chat_id": 77, "text": "a reply"})], world.now
    )
    first = world.storage.claim_outbox(1, world.now)
    assert first[0].chat_id == 77


def test_paid_broadcasts_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIPBOT_ALLOW_PAID_BROADCAST", "true")
    world = World()
    clinic_id, _ = setup_clinic(world, 2)
    queue(world, clinic_id)
    bc.sweep(world.storage, world.now, rate=1000)
    assert all(row.params["allow_paid_broadcast"] is True for row in world.outbox())


# ---------------------------------------------------------------- outcomes and the report


async def test_everyone_gets_it_once_and_the_sender_gets_a_report() -> None:
    world = World()
    clinic_id, users = setup_clinic(world, 25)
    draft = queue(world, clinic_id, "<b>Closed</b> on Friday.")
    bot = FakeBot()
    await run_until_quiet(world, bot, rate=5)
    got = Counter(chat for chat, _ in bot.received)
    assert {u: got[u] for u in users} == dict.fromkeys(users, 1)
    assert bot.texts_to(users[0]) == ["<b>Hip Clinic</b>\n\n<b>Closed</b> on Friday."]
    assert delivery_states(world, draft) == {"sent": 25}
    broadcast = world.store.broadcast(clinic_id, draft)
    assert broadcast.state == "done" and broadcast.finished_at == NOW
    report = check_html(bot.texts_to(AUTHOR)[0])  # valid Telegram HTML, as read
    assert len(bot.texts_to(AUTHOR)) == 1
    assert f"Broadcast #{draft} is done." in report
    assert "Sent: 25" in report and "Blocked the bot: <5" in report


async def test_blocked_and_opted_out_patients_never_receive() -> None:
    world = World()
    clinic_id, users = setup_clinic(world, 8)
    world.storage.set_flag(str(users[0]), "stopped", True)  # /stop before the broadcast
    draft = queue(world, clinic_id)
    assert world.store.counts(clinic_id, draft).total == 7
    world.command(users[1], "leave")  # left after it was queued
    world.storage.set_flag(str(users[2]), "blocked", True)  # Telegram told us, meanwhile
    bot = FakeBot(blocked={users[3]}, bad={users[4]})  # 403 and 400 on sending
    await run_until_quiet(world, bot)
    received = {chat for chat, _ in bot.received}
    assert received.isdisjoint(users[:5])
    assert received >= set(users[5:])
    assert delivery_states(world, draft) == {"sent": 3, "blocked": 2, "skipped": 1, "failed": 1}
    assert world.storage.get_flag(str(users[3]), "blocked")  # the 403 marked the person
    counts = world.store.counts(clinic_id, draft)
    assert (counts.sent, counts.blocked, counts.failed, counts.skipped) == (3, 2, 1, 1)
    assert "is done" in bot.texts_to(AUTHOR)[0]


async def test_cancel_skips_what_is_not_yet_handed_over() -> None:
    world = World()
    clinic_id, _ = setup_clinic(world, 40)
    draft = queue(world, clinic_id)
    bc.sweep(world.storage, world.now, rate=5)  # 20 in the outbox
    response = world.command(AUTHOR, "cancel", str(draft))
    assert "Stopped broadcast" in response.replies[0].text
    bot = FakeBot()
    await run_until_quiet(world, bot, rate=5)
    assert len({chat for chat, _ in bot.received if chat != AUTHOR}) == 20
    assert delivery_states(world, draft) == {"sent": 20, "skipped": 20}
    assert world.store.broadcast(clinic_id, draft).state == "cancelled"
    (report,) = map(check_html, bot.texts_to(AUTHOR))
    assert "was stopped" in report and "Skipped (left, stopped or cancelled): 20" in report


async def test_no_report_to_someone_no_longer_staff() -> None:
    world = World()
    clinic_id, _ = setup_clinic(world, 3)
    queue(world, clinic_id)
    world.store.remove_staff(clinic_id, str(AUTHOR))
    bot = FakeBot()
    await run_until_quiet(world, bot)
    assert bot.texts_to(AUTHOR) == []


# ---------------------------------------------------------------- resuming after a kill


async def test_a_kill_mid_broadcast_skips_nobody_and_repeats_only_what_was_in_flight(
    tmp_path: Path,
) -> None:
    """The bound: a recipient gets a message twice only if its outbox row was claimed, sent
    and not yet marked sent at the kill. Those rows are counted in the database right after
    the kill, and they are at most one sender claim (``OutboxSender.batch``)."""
    world = World(str(tmp_path / "bot.db"))
    clinic_id, users = setup_clinic(world, 60)
    draft = queue(world, clinic_id)
    received: list[tuple[int, dict[str, object]]] = []
    bot = FakeBot(received, hang_after=17)  # 17 answered, then accepted but never answered
    sender = sender_for(world, bot)
    sender.batch = 7
    bc.sweep(world.storage, world.now, rate=10)  # 40 handed over
    sending = asyncio.create_task(_send_forever(sender))
    for _ in range(10_000):
        if bot.hung == 4:  # the third claim: rows 15-17 answered, 18-21 in flight
            break
        await asyncio.sleep(0)
    assert bot.hung == 4
    sending.cancel()  # the kill: nothing more is marked
    in_flight = world.storage.db.one(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND claimed_until > ?", (world.now,)
    )[0]
    assert in_flight == 4 <= sender.batch

    world = world.restart()
    await run_until_quiet(world, FakeBot(received), rate=10)
    got = Counter(chat for chat, _ in received if chat != AUTHOR)
    missed = [u for u in users if got[u] == 0]
    duplicates = sum(n - 1 for n in got.values())
    assert missed == []
    assert duplicates == in_flight
    assert delivery_states(world, draft) == {"sent": 60}
    assert len([chat for chat, _ in received if chat == AUTHOR]) == 1  # one report


async def _send_forever(sender: OutboxSender) -> None:
    while await sender.send_due():
        pass


async def test_a_restart_before_anything_was_handed_over_sends_everything_once(
    tmp_path: Path,
) -> None:
    world = World(str(tmp_path / "bot.db"))
    clinic_id, users = setup_clinic(world, 15)
    queue(world, clinic_id)
    world = world.restart()
    bot = FakeBot()
    await run_until_quiet(world, bot)
    assert Counter(chat for chat, _ in bot.received if chat != AUTHOR) == dict.fromkeys(users, 1)


# ---------------------------------------------------------------- local times


BERLIN = "Europe/Berlin"


def utc(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text + "+00:00").timestamp()


def test_parse_local_time() -> None:
    assert parse_local_time("9:30") == LocalTime(9, 30)
    assert parse_local_time("2026-11-20 18:05") == LocalTime(18, 5, date(2026, 11, 20))
    for bad in ("25:00", "9", "noon", "2026-02-30 09:00", "09:60"):
        with pytest.raises(ValueError, match="is not a time"):
            parse_local_time(bad)


def test_a_scheduled_time_is_each_persons_own_local_time() -> None:
    now = utc("2027-01-15 08:00")  # 09:00 in Berlin (winter, UTC+1)
    quiet = QuietHours()  # 21:00-08:00
    assert local_due(now, LocalTime(9, 30), BERLIN, quiet) == utc("2027-01-15 08:30")
    assert local_due(now, LocalTime(9, 30), "UTC", quiet) == utc("2027-01-15 09:30")
    assert local_due(now, LocalTime(9, 30), "America/New_York", quiet) == utc("2027-01-15 14:30")
    # 08:30 has passed in Berlin today: tomorrow
    assert local_due(now, LocalTime(8, 30), BERLIN, quiet) == utc("2027-01-16 07:30")


def test_a_scheduled_time_in_quiet_hours_waits_for_them_to_end() -> None:
    now = utc("2027-01-15 08:00")
    quiet = QuietHours()
    assert local_due(now, LocalTime(23, 0), BERLIN, quiet) == utc("2027-01-16 07:00")
    assert local_due(now, LocalTime(6, 0), BERLIN, quiet) == utc("2027-01-16 07:00")
    assert local_due(now, LocalTime(23, 0), BERLIN, QuietHours(0, 0)) == utc("2027-01-15 22:00")


def test_a_scheduled_date_and_daylight_saving() -> None:
    now = utc("2027-03-01 12:00")
    summer = local_due(now, LocalTime(9, 0, date(2027, 4, 2)), BERLIN, QuietHours())
    assert summer == utc("2027-04-02 07:00")  # UTC+2 by then
    past = local_due(now, LocalTime(9, 0, date(2027, 2, 1)), BERLIN, QuietHours())
    assert past == now  # a date already gone: as soon as possible


def test_each_recipient_gets_it_at_the_time_in_their_own_zone_and_quiet_hours() -> None:
    from bot.storage.reminders import ReminderStore

    world = World()
    clinic_id, (berlin, tokyo, unset) = setup_clinic(world, 3)
    settings = ReminderStore(world.storage.db)
    settings.save_settings(str(berlin), world.now, tz=BERLIN)
    settings.save_settings(str(tokyo), world.now, tz="Asia/Tokyo", quiet=QuietHours(0, 0))
    queue(world, clinic_id, at=LocalTime(10, 0))
    due = dict(world.storage.db.all("SELECT user_id, due_at FROM clinic_deliveries"))
    assert due == {
        str(berlin): utc("2027-01-15 09:00"),
        str(tokyo): utc("2027-01-16 01:00"),  # 10:00 tomorrow in Tokyo (UTC+9)
        str(unset): utc("2027-01-15 10:00"),  # someone who never set a zone: UTC
    }
    assert bc.sweep(world.storage, world.now, rate=30) == 0  # nobody is due yet
    world.now = utc("2027-01-15 09:00")
    assert bc.sweep(world.storage, world.now, rate=30) == 1
    assert [row.chat_id for row in world.outbox()] == [berlin]
