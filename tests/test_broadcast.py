"""Broadcasts: delivery rows, the sweep, outcomes, resuming after a kill, the report, times,
and several replicas on one database (racing sweeps, a replica killed mid-sweep or while
sending, /cancel during another replica's sweep).

Each test runs on a SQLite file and on a fresh PostgreSQL database (when a server is there:
``scripts/postgres-test-server``; CI starts one). The real ``OutboxSender`` sends through
``FakeBot`` (tests/fakes/clinics.py), with the clock injected; nothing here waits on real
time.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections import Counter
from datetime import date

import pytest

from bot import outgoing
from bot.features.clinics import broadcast as bc
from bot.features.clinics.broadcast import (
    LocalTime,
    local_due,
    now_due,
    outbox_window,
    parse_local_time,
)
from bot.features.clinics.rules import EVERYONE
from bot.features.clinics.store import ClinicStore
from bot.features.reminders.rules import QuietHours
from bot.telegram.sender import OutboxSender
from bot.telegram_html import check_html
from tests.fakes.bot_process import REPO
from tests.fakes.clinics import NOW, FakeBot, World, telegram_params

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


def test_one_pending_delivery_per_recipient(world: World) -> None:
    clinic_id, users = setup_clinic(world, 12)
    draft = queue(world, clinic_id)
    assert world.store.broadcast(clinic_id, draft).state == "queued"
    rows = world.storage.db.all(
        "SELECT user_id, state, due_at, outboxed_at FROM clinic_deliveries ORDER BY user_id"
    )
    assert [r[0] for r in rows] == [str(u) for u in users]
    assert {(r[1], r[2], r[3]) for r in rows} == {("pending", NOW, None)}


def test_the_sweep_hands_over_at_most_a_window_at_priority_ten(world: World) -> None:
    clinic_id, _ = setup_clinic(world, 50)
    draft = queue(world, clinic_id)
    assert outbox_window(5) == 20
    assert bc.sweep(world.storage, world.now, rate=5) == 20
    assert bc.sweep(world.storage, world.now, rate=5) == 0  # the window is full
    rows = world.storage.db.all("SELECT priority FROM outbox")
    assert [p for (p,) in rows] == [10] * 20
    claimed = [telegram_params(row) for row in world.outbox()]
    assert all(params["_delivery"] > 0 for params in claimed)
    assert claimed[0]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Stop these messages",
        "callback_data": f"x:cl:{clinic_id}",
    }
    assert "allow_paid_broadcast" not in claimed[0]
    assert world.store.broadcast(clinic_id, draft).state == "sending"


def test_replies_go_before_a_queued_broadcast(world: World) -> None:
    clinic_id, _ = setup_clinic(world, 30)
    queue(world, clinic_id)
    bc.sweep(world.storage, world.now, rate=30)
    world.storage.commit_outbox(outgoing.say(77, "a reply"), world.now)
    first = world.storage.claim_outbox(1, world.now)
    assert first[0].chat_id == 77


def test_paid_broadcasts_say_so(world: World) -> None:
    clinic_id, _ = setup_clinic(world, 2)
    queue(world, clinic_id)
    bc.sweep(world.storage, world.now, rate=1000, paid=True)
    calls = [telegram_params(row) for row in world.outbox()]
    assert calls and all(params["allow_paid_broadcast"] is True for params in calls)


# ---------------------------------------------------------------- outcomes and the report


async def test_everyone_gets_it_once_and_the_sender_gets_a_report(world: World) -> None:
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


async def test_blocked_and_opted_out_patients_never_receive(world: World) -> None:
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


async def test_cancel_skips_what_is_not_yet_handed_over(world: World) -> None:
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


async def test_no_report_to_someone_no_longer_staff(world: World) -> None:
    clinic_id, _ = setup_clinic(world, 3)
    queue(world, clinic_id)
    world.store.remove_staff(clinic_id, str(AUTHOR))
    bot = FakeBot()
    await run_until_quiet(world, bot)
    assert bot.texts_to(AUTHOR) == []


# ---------------------------------------------------------------- resuming after a kill


async def test_a_kill_mid_broadcast_skips_nobody_and_repeats_only_what_was_in_flight(
    database: str,
) -> None:
    """The bound: a recipient gets a message twice only if its outbox row was claimed, sent
    and not yet marked sent at the kill. Those rows are counted in the database right after
    the kill, and they are at most one sender claim (``OutboxSender.batch``)."""
    world = World(database)
    clinic_id, users = setup_clinic(world, 60)
    draft = queue(world, clinic_id)
    received: list[tuple[int, dict[str, object]]] = []
    bot = FakeBot(received, hang_after=17)  # 17 answered, then accepted but never answered
    sender = sender_for(world, bot)
    sender.batch = 7
    bc.sweep(world.storage, world.now, rate=10)  # 40 handed over
    sending = asyncio.create_task(_send_forever(sender))
    for _ in range(10_000):
        # the third claim: rows 15-17 answered, 18-21 in flight, the answered ones marked (in a worker thread)
        if bot.hung == 4 and sender.sent == len(received) - 4:
            break
        await asyncio.sleep(0.001)
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
    world.storage.close()


async def _send_forever(sender: OutboxSender) -> None:
    while await sender.send_due():
        pass


async def test_a_restart_before_anything_was_handed_over_sends_everything_once(
    database: str,
) -> None:
    world = World(database)
    clinic_id, users = setup_clinic(world, 15)
    queue(world, clinic_id)
    world = world.restart()
    bot = FakeBot()
    await run_until_quiet(world, bot)
    assert Counter(chat for chat, _ in bot.received if chat != AUTHOR) == dict.fromkeys(users, 1)
    world.storage.close()


# ---------------------------------------------------------------- several replicas


def outboxed_deliveries(world: World) -> Counter[int]:
    """How many outbox rows each delivery got."""
    return Counter(
        int(row.params["_delivery"]) for row in world.outbox() if "_delivery" in row.params
    )


def test_two_replicas_sweeping_at_once_hand_each_delivery_over_once(
    world: World, database: str
) -> None:
    """Two connections (as two replicas) run the broadcast sweep at the same moment, again
    and again: each delivery goes to the outbox once, and the broadcast is finished once."""
    clinic_id, users = setup_clinic(world, 240)
    queue(world, clinic_id)
    other = World(database)
    start = threading.Barrier(2)
    handed: list[int] = []

    def run(replica: World) -> None:
        start.wait()
        handed.append(sum(bc.sweep(replica.storage, world.now, rate=100) for _ in range(5)))

    threads = [threading.Thread(target=run, args=(w,)) for w in (world, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other.storage.close()
    assert sum(handed) == len(users)
    per_delivery = outboxed_deliveries(world)
    assert len(per_delivery) == len(users) and set(per_delivery.values()) == {1}
    per_chat = Counter(row.chat_id for row in world.outbox())
    assert {u: per_chat[u] for u in users} == dict.fromkeys(users, 1)


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_cancel_on_one_replica_while_another_sweeps_waits_its_turn(
    world: World, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep locks deliveries, then the broadcast; /cancel the broadcast, then deliveries.
    On two replicas at once that is a deadlock unless one waits for the other: /cancel
    waits for the sweep to commit, then stops what is left."""
    clinic_id, _ = setup_clinic(world, 30)
    draft = queue(world, clinic_id)
    staff_replica = World(database)
    watcher = World(database)
    handed, resume = threading.Event(), threading.Event()
    mark_outboxed = ClinicStore.mark_outboxed

    def mark_then_wait(store: ClinicStore, delivery_ids: list[int], now: float) -> None:
        mark_outboxed(store, delivery_ids, now)
        handed.set()
        resume.wait(30)

    monkeypatch.setattr(ClinicStore, "mark_outboxed", mark_then_wait)
    errors: list[BaseException] = []
    cancelled: list[bool] = []

    def sweep() -> None:
        try:
            bc.sweep(world.storage, world.now, rate=5)  # 20 of the 30 handed over
        except Exception as error:  # a deadlock must fail the test, not the thread
            errors.append(error)

    def cancel() -> None:
        try:
            cancelled.append(staff_replica.store.cancel(clinic_id, draft, world.now))
        except Exception as error:
            errors.append(error)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    assert handed.wait(30)
    pid = staff_replica.storage.db.one("SELECT pg_backend_pid()")[0]
    canceller = threading.Thread(target=cancel)
    canceller.start()
    for _ in range(100_000):  # until the cancel waits for a lock (no clock involved)
        row = watcher.storage.db.one(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?", (pid,)
        )
        if row and row[0] == "Lock":
            break
    else:
        raise AssertionError("the cancel never waited")
    resume.set()
    sweeper.join(30)
    canceller.join(30)
    staff_replica.storage.close()
    watcher.storage.close()
    assert errors == [] and cancelled == [True]
    assert delivery_states(world, draft) == {"pending": 20, "skipped": 10}
    assert world.store.broadcast(clinic_id, draft).state == "cancelled"


HANGER = """
import sys, time
from bot.features.clinics import broadcast
from bot.storage import SqlStorage, open_storage
from bot.features.clinics.store import ClinicStore
where = sys.argv[1]
storage = open_storage(where) if "://" in where else SqlStorage(where)
def mark_then_hang(self, delivery_ids, now):
    print(len(delivery_ids), flush=True)
    time.sleep(600)  # SIGKILLed here: outbox rows written, nothing committed
ClinicStore.mark_outboxed = mark_then_hang
broadcast.sweep(storage, float(sys.argv[2]), rate=100)
"""


def test_a_replica_killed_mid_sweep_leaves_the_broadcast_to_the_others(
    world: World, database: str
) -> None:
    """Killed in the middle of handing deliveries to the outbox: its transaction goes with
    its connection (and its lock with it), and another replica's sweep hands each delivery
    over once."""
    clinic_id, _ = setup_clinic(world, 30)
    queue(world, clinic_id)
    hanger = subprocess.Popen(
        [sys.executable, "-c", HANGER, database, repr(world.now)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert hanger.stdout is not None and hanger.stdout.readline().strip() == "30"
    finally:
        hanger.kill()
        hanger.communicate(timeout=10)
    assert bc.sweep(world.storage, world.now, rate=100) == 30
    per_delivery = outboxed_deliveries(world)
    assert len(per_delivery) == 30 and set(per_delivery.values()) == {1}
    assert bc.sweep(world.storage, world.now, rate=100) == 0


async def test_a_killed_senders_claims_are_taken_over_by_another_replica(
    world: World, database: str
) -> None:
    """The sending replica dies with rows claimed (some sent, not yet marked). Sending
    passes to another replica (PostgreSQL: the dead one's advisory lock goes with its
    connection); the claims expire after their lease and the new sender sends them: nobody
    is skipped, only the rows in flight at the kill go twice, and the report goes once."""
    clinic_id, users = setup_clinic(world, 40)
    draft = queue(world, clinic_id)
    other = World(database)  # a second replica on the same database
    postgres = world.storage.db.dialect == "postgres"
    assert world.storage.db.try_leader("outbox-sender")
    assert other.storage.db.try_leader("outbox-sender") is not postgres
    received: list[tuple[int, dict[str, object]]] = []
    bot = FakeBot(received, hang_after=12)
    sender = sender_for(world, bot)
    sender.batch = 8
    bc.sweep(world.storage, world.now, rate=100)
    sending = asyncio.create_task(_send_forever(sender))
    for _ in range(10_000):
        # the second claim: 9-12 answered, 13-16 in flight, the answered ones marked (in a worker thread)
        if bot.hung == 4 and sender.sent == len(received) - 4:
            break
        await asyncio.sleep(0.001)
    sending.cancel()
    world.storage.close()  # the kill: its connection is gone
    # PostgreSQL frees a closed connection's advisory locks as its backend ends, a moment
    # later (as with a replica's crash): the other replica takes over on one of its next tries
    assert await _becomes_leader(other, "outbox-sender")
    in_flight = other.storage.db.one(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND claimed_until > ?", (other.now,)
    )[0]
    assert in_flight == bot.hung == 4  # received by Telegram, never marked sent
    await run_until_quiet(other, FakeBot(received), rate=100)
    assert delivery_states(other, draft) == {"sent": 36, "pending": 4}  # still claimed
    other.now += 61  # the dead sender's lease is over
    await run_until_quiet(other, FakeBot(received), rate=100)
    got = Counter(chat for chat, _ in received if chat != AUTHOR)
    assert [u for u in users if got[u] == 0] == []
    assert sum(n - 1 for n in got.values()) == in_flight
    assert delivery_states(other, draft) == {"sent": 40}
    assert len([chat for chat, _ in received if chat == AUTHOR]) == 1
    other.storage.close()


async def _becomes_leader(replica: World, name: str, tries: int = 100) -> bool:
    for _ in range(tries):
        if replica.storage.db.try_leader(name):
            return True
        await asyncio.sleep(0.05)
    return False


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


def test_send_now_waits_for_the_end_of_quiet_hours() -> None:
    quiet = QuietHours()  # 21:00-08:00
    evening = utc("2027-01-15 21:30")  # 22:30 in Berlin: quiet; 16:30 in New York: not
    assert now_due(evening, BERLIN, quiet) == utc("2027-01-16 07:00")
    assert now_due(evening, "America/New_York", quiet) == evening


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


def test_each_recipient_gets_it_at_the_time_in_their_own_zone_and_quiet_hours(
    world: World,
) -> None:
    from bot.features.reminders.store import ReminderStore

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
