"""SIGKILL at random points during 200 scripted conversations: no state and no reply is lost.

The real ``hipbot run`` runs as a subprocess against the fake Bot API on one SQLite file. 200
patients follow seeded paths through the shipped flows (/start, button taps, commands,
typed text, stickers; ``tests/fakes/patients.py`` works out in-process what each action must
answer and where each patient must end). Each patient waits for the answer to an action
(the update is stored as handled, the chat has nothing left in the outbox, and the fake has
every expected message) before the next one. Meanwhile the bot is SIGKILLed at seeded random
points of progress and started again on the same database. An answer may take
``ANSWER_TIMEOUT`` seconds of the bot serving: a restart takes a while on a busy machine
(20 s and more was seen with 2 cores shared), and until the new process serves, the update
waits at Telegram; the checks at the end show nothing was lost meanwhile.

What must hold afterwards:

* state: every patient's stored session is exactly the one the engine computes for the
  script, with ``revision`` equal to the number of actions (so no update acted twice and
  none was dropped) and ``last_update`` the id of the last action;
* the outbox: each chat's sendMessage rows are exactly the expected replies, in order, all
  sent; one edit row per button tap (a redelivered update adds no rows);
* delivery: every expected reply reached the chat (no reply lost);
* duplicates: a reply can reach a chat twice only when the kill fell between Telegram
  accepting the sendMessage and the sender marking its row sent. The sender sends a chat's
  rows one at a time and marks each before sending the next, so per kill at most one reply
  per chat is in that window, and at most one sender batch (``bot.telegram.sender.BATCH`` rows) in
  all. Hence per chat ``duplicates <= kills`` and in total
  ``duplicates <= kills * min(BATCH, patients)``. An edit repeated after a restart is
  answered "message is not modified" and shows nothing twice.
"""

from __future__ import annotations

import asyncio
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot import texts
from bot.model import Event
from bot.storage import SqlStorage
from bot.storage.base import session_to_json
from bot.telegram.sender import BATCH
from bot.telegram_html import check_html
from tests.fakes.bot_api import FakeBotApi, FakeUser, SentMessage
from tests.fakes.bot_process import REPO, BotProcess
from tests.fakes.patients import PatientScript, Watch, engine_for, script_patients

PATIENTS = 200
KILLS = 6
SEED = 20260704
ANSWER_TIMEOUT = 30.0
FIRST_CHAT = 7_000_001
# answers the fake may give without anything being wrong: a repeated edit after a restart,
# and answering a redelivered button press a second time
HARMLESS = ("message is not modified", "query is too old")


def original_text(message: SentMessage) -> str:
    """The text as first sent (before the choice was written into it)."""
    return (message.history[0][0] if message.history else message.text) or ""


def delivered(fake: FakeBotApi, chat_id: int) -> Counter[str]:
    return Counter(original_text(m) for m in fake.messages(chat_id))


class Db:
    """Looks at the bot's database while it runs (reads only; WAL lets them in)."""

    def __init__(self, path: Path) -> None:
        self.storage = SqlStorage(str(path))  # the data key file is beside the database

    def handled(self, chat_id: int, update_id: int) -> bool:
        """The update is stored as handled and the chat has nothing left to send."""
        session = self.storage.load_session(str(chat_id))
        if session is None or session.last_update < update_id:
            return False
        row = self.storage.db.one(
            "SELECT count(*) FROM outbox WHERE chat_id = ? AND state = 'pending'", (chat_id,)
        )
        return int(row[0]) == 0

    def pending(self) -> int:
        return self.storage.pending_outbox()

    def outbox(self, chat_id: int) -> list[tuple[str, str, dict[str, object]]]:
        rows = self.storage.db.all(
            "SELECT method, state, params FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [
            (method, state, self.storage.codec.open_json(params)) for method, state, params in rows
        ]

    def close(self) -> None:
        self.storage.close()


class Progress:
    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.serving = asyncio.Event()  # the bot is up (cleared from a kill until it serves)
        self.serving.set()
        self.serving_since = 0.0  # loop time the bot last started serving

    async def reached(self, count: int) -> None:
        while self.done < count:
            await asyncio.sleep(0.002)


async def patient(
    script: PatientScript, fake: FakeBotApi, watch: Watch, db: Db, progress: Progress
) -> list[int]:
    """Play the script, each action after the answer to the one before; the update ids."""
    user = fake.user(script.chat_id)
    expected: Counter[str] = Counter()
    update_ids = []
    for action in script.actions:
        update_id = int(action.perform(user)["update_id"])
        update_ids.append(update_id)
        expected.update(action.visible)

        def answered(update_id: int = update_id, expected: Counter[str] = expected) -> bool:
            if not db.handled(script.chat_id, update_id):
                return False
            return not expected - delivered(fake, script.chat_id)

        asked_at = asyncio.get_running_loop().time()
        while True:
            try:
                await watch.until(script.chat_id, answered, ANSWER_TIMEOUT, recheck=0.05)
                break
            except TimeoutError:
                if progress.serving.is_set() and progress.serving_since <= asked_at:
                    missing = expected - delivered(fake, script.chat_id)
                    raise AssertionError(
                        f"chat {script.chat_id}: no answer to {action.kind} {action.arg!r} "
                        f"(action {len(update_ids)}); handled: "
                        f"{db.handled(script.chat_id, update_id)}; missing: {list(missing)}; "
                        f"the chat has: {fake.texts(script.chat_id)[-4:]}"
                    ) from None
            # the bot was down for part of the wait: a restart takes seconds on a busy
            # machine (imports, flows), so the new process gets the full time from when
            # it serves (the update waits at Telegram meanwhile)
            await progress.serving.wait()
            asked_at = progress.serving_since
        progress.done += 1
    return update_ids


async def killer(bot: BotProcess, fake: FakeBotApi, progress: Progress, rng: random.Random) -> int:
    """SIGKILL the bot at ``KILLS`` random points of progress, restarting it each time."""
    points = sorted(rng.sample(range(progress.total // 20, progress.total * 9 // 10), KILLS))
    for point in points:
        await progress.reached(point)
        await asyncio.sleep(rng.uniform(0.0, 0.03))
        assert bot.process is not None and bot.process.poll() is None, "the bot died by itself"
        bot.kill()
        progress.serving.clear()
        bot.start()
        await fake.wait_for(  # each start ends with setMyCommands
            lambda: len(fake.calls("setMyCommands")) >= bot.starts, 120, "the bot serving again"
        )
        progress.serving_since = asyncio.get_running_loop().time()
        progress.serving.set()
    return len(points)


def copy_flows(tmp_path: Path) -> Path:
    """The flows as they are now, so content edits during the run change nothing."""
    flows = tmp_path / "flows"
    shutil.copytree(REPO / "flows", flows)
    return flows


def check_errors(fake: FakeBotApi, injected: tuple[str, ...] = ()) -> None:
    unexpected = [
        (call.method, call.status, call.description)
        for call in fake.errors
        if not any(words in (call.description or "") for words in (*HARMLESS, *injected))
    ]
    assert not unexpected, f"the fake refused calls: {unexpected[:10]}"


def check_logs(bot: BotProcess) -> None:
    logs = bot.logs()
    assert "handler_error" not in logs and "Traceback" not in logs, logs[-3000:]


async def test_sigkill_at_random_points_loses_no_state_and_no_reply(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    chats = range(FIRST_CHAT, FIRST_CHAT + PATIENTS)
    scripts = script_patients(flows, chats, length=(6, 10), seed=SEED)
    progress = Progress(sum(len(s.actions) for s in scripts))
    async with FakeBotApi() as fake, Watch(fake) as watch:
        bot = BotProcess(fake, tmp_path, HIPBOT_FLOWS=str(flows), HIPBOT_EMERGENCY_NUMBER="112")
        db = Db(bot.db_path)  # before the bot: creates the schema and the data key
        bot.start()
        try:
            kills, *update_ids = await asyncio.gather(
                killer(bot, fake, progress, random.Random(SEED)),
                *(patient(s, fake, watch, db, progress) for s in scripts),
            )
        finally:
            # not blocking the loop: the fake must answer the bot's last calls as it stops
            stopped = await asyncio.to_thread(bot.stop)
            outboxes = {s.chat_id: db.outbox(s.chat_id) for s in scripts}
            db.close()
        assert stopped == 0

        assert kills == KILLS
        storage = SqlStorage(str(bot.db_path))
        try:
            for script, ids in zip(scripts, update_ids, strict=True):
                stored = storage.load_session(str(script.chat_id))
                assert stored is not None, script.chat_id
                assert stored.last_update == ids[-1], script.chat_id
                assert stored.revision == len(script.actions), (script.chat_id, stored)
                assert session_to_json(replace(stored, last_update=0)) == session_to_json(
                    script.session
                ), script.chat_id
        finally:
            storage.close()

        duplicates: Counter[int] = Counter()
        for script in scripts:
            rows = outboxes[script.chat_id]
            assert all(state == "sent" for _, state, _ in rows), rows
            sends = [  # a picture's caption carries its step's text (bot.outgoing.photo)
                params["text"] if kind == "say" else params["caption"]
                for kind, _, params in rows
                if kind == "say" or (kind == "photo" and params.get("caption"))
            ]
            assert sends == script.sends, script.chat_id
            edits = sum(
                1 for kind, _, params in rows if kind == "edit" and not params.get("buttons_only")
            )
            assert edits == sum(a.edits for a in script.actions), script.chat_id

            expected = Counter(text for a in script.actions for text in a.visible)
            got = delivered(fake, script.chat_id)
            assert not expected - got, f"replies lost in chat {script.chat_id}"
            extra = got - expected
            assert set(extra) <= set(expected), f"unexpected messages: {extra}"
            duplicates[script.chat_id] = sum(extra.values())
            assert duplicates[script.chat_id] <= kills, (script.chat_id, extra)
        total = sum(duplicates.values())
        assert total <= kills * min(BATCH, PATIENTS)
        check_errors(fake)
        check_logs(bot)
        print(
            f"\n{PATIENTS} patients, {progress.total} actions, {kills} kills, "
            f"{total} duplicated replies, "
            f"{bot.logs().count('duplicate_update')} redelivered updates ignored"
        )


# ------------------------------------------------------------------ redelivery, deterministic


def second_updates(first_button: str) -> dict[int, Callable[[FakeUser], object]]:
    """One chat per kind of update, sent after /start."""
    return {
        9001: lambda user: user.click(first_button),
        9002: lambda user: user.send_sticker(),
        9003: lambda user: user.send_command("/menu"),
        9004: lambda user: user.send_text("hello"),
        9005: lambda user: user.send_command("/stop"),
        9006: lambda user: user.edit_last_text("hello"),
    }


async def test_a_redelivered_update_acts_once(tmp_path: Path) -> None:
    """Handled and stored, then killed before the update was confirmed to Telegram: after the
    restart getUpdates hands out the same updates again, and none may act a second time."""
    flows = copy_flows(tmp_path)
    engine = engine_for(flows)
    welcome = engine.bundle.flows["hip"].steps["welcome"]
    plans = second_updates(welcome.buttons[0].label.get("en"))
    help_text = check_html(engine.handle(None, Event.command_named("help"), "x").replies[0].text)
    async with FakeBotApi() as fake:
        bot = BotProcess(fake, tmp_path, HIPBOT_FLOWS=str(flows))
        db = Db(bot.db_path)
        bot.start()
        try:
            for chat in plans:
                fake.user(chat).send_command("/start")
            await fake.wait_for(
                lambda: (
                    all(len(fake.messages(c)) == 2 for c in plans) and not fake.pending_updates()
                ),
                20,
                "the welcome in every chat, every update confirmed",
            )
            # the getUpdates that confirmed them is long-polling now; the ones after it fail,
            # so the next updates are handled and stored but not confirmed
            fake.fail_next("getUpdates", 502, times=10)
            for chat, act in plans.items():
                act(fake.user(chat))
            await fake.wait_for(
                lambda: all(len(fake.messages(c)) > 2 for c in plans) and db.pending() == 0,
                20,
                "every update answered in full",
            )
            before = {chat: [original_text(m) for m in fake.messages(chat)] for chat in plans}
            pending = {u["update_id"] for u in fake.pending_updates()}
            assert len(pending) == len(plans), "confirmed already: nothing would be redelivered"
            bot.kill()
            fake.clear_faults()
            bot.start()
            await fake.wait_for(lambda: not fake.pending_updates(), 20, "redelivery confirmed")
            redelivered = {
                u["update_id"] for call in fake.calls("getUpdates") for u in call.result or []
            }
            assert pending <= redelivered
            # one more message per chat: whatever the redelivery caused is sent before it
            for chat in plans:
                fake.user(chat).send_command("/help")
            await fake.wait_for(
                lambda: all(help_text in fake.texts(c) for c in plans), 20, "/help answered"
            )
        finally:
            db.close()
            stopped = await asyncio.to_thread(bot.stop)
        assert stopped == 0
        for chat in plans:
            after = [original_text(m) for m in fake.messages(chat)]
            assert after == [*before[chat], help_text], (chat, before[chat], after)
        assert before[9005].count(check_html(texts.STOPPED.get("en"))) == 1
        check_errors(fake, injected=("Bad Gateway",))
        check_logs(bot)
