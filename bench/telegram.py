"""``python -m bench telegram``: updates a second through real PTB, real HTTP and SQLite.

``python -m bench telegram`` (issue 13's figures): ``LOOP_CHATS`` patients in a closed loop,
each sending "menu" (a one-message reply in the hip flow, checked against the engine before
and against what the fake received after) and waiting for the whole reply, ``LOOP_SENDS``
times, after an untimed /start. In the same run, on the same fake Bot API and driven the same
way: a bare PTB echo bot and a bare aiogram echo bot (``bench/aiogram_echo.py``, in its own
``.venv-aiogram`` made here from ``bench/aiogram-requirements.txt``, because aiogram 3.31
requires pydantic < 2.14 and hipbot pins 2.14.3; skipped with a note when it cannot be made).

- ``updates_per_s``: hipbot's "menu" updates over the time from the first one queued to the
  last reply received; ``p50_ms`` / ``p99_ms``: per update, queued -> its reply received;
- ``ratio_ptb_echo`` / ``ratio_aiogram_echo``: hipbot's rate over each echo bot's.
  Targets: ``ratio_aiogram_echo`` >= 1.0 and ``p99_ms`` <= 250;
- ``load_average``: the machine's 1-minute load average before and after (other processes
  only ever slow a run; the best of ``ROUNDS`` rounds of each bot is reported).

``python -m bench telegram-walk``: the scripted walk below.

The real ``hipbot run`` runs as a subprocess against the in-repo fake Bot API (rate limits
off, ``HIPBOT_RATE_LIMIT=1000``) on a fresh SQLite file. ``CHATS`` scripted patients
(``tests/fakes/patients.py``: seeded walks through the shipped flows, mostly button taps,
some commands, typed text and stickers) each do ``ACTIONS`` actions, every one after the
answer to the one before, all chats at once.

- ``updates_per_s``: actions (updates) over the time from the first update queued to the
  last reply received;
- ``p50_ms`` / ``p99_ms``: per update, from the update being queued in the fake to the fake
  receiving the last sendMessage it causes;
- ``echo_updates_per_s``: in the same run, a bare PTB echo bot (``ApplicationBuilder`` with
  the same base_url, the same update concurrency and connection pool as hipbot, one
  ``MessageHandler`` answering each text with ``reply_text``, ``run_polling``) in a
  subprocess, driven the same way with the same number of updates;
- ``ratio``: ``updates_per_s / echo_updates_per_s``. Target: >= 0.7.
- ``echo_aiohttp_updates_per_s`` / ``ratio_same_transport``: the same echo bot on hipbot's
  HTTP backend (``bot.telegram.request.AiohttpRequest``), to tell what the backend gives
  from what the rest of hipbot costs;
- ``cpu_ms_per_update``: CPU of each bot's process per update while measured (Linux).

Every bot runs ``ROUNDS`` times in a rotating order, each time on a fresh fake server;
the best round of each is reported (other processes on the machine only ever slow a run).

The echo bot makes one API call per update; hipbot makes what the flow needs (the pressed
message edited, the button press answered, one or two messages) and stores every turn and
every sent message in SQLite first.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import percentile, report

ROOT = Path(__file__).resolve().parent.parent
CHATS = 100
ACTIONS = 20
SEED = 7
ROUNDS = 2
TARGET_RATIO = 0.7
START_TIMEOUT = 30.0
ANSWER_TIMEOUT = 60.0
# what both bots get from PTB: updates of many chats handled at once, 64 HTTP connections
CONCURRENT_UPDATES = 256
CONNECTION_POOL = 64


@dataclass
class Load:
    updates: int
    seconds: float
    latencies_ms: list[float]
    cpu_seconds: float | None  # the bot process's CPU while it was measured (Linux)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms_per_update(self) -> float | None:
        return None if self.cpu_seconds is None else self.cpu_seconds * 1000 / self.updates


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far, from /proc (None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(
    fake: Any,
    watch: Any,
    chat_id: int,
    steps: list[tuple[Any, int]],
    latencies: list[float],
    already: int = 0,
) -> float:
    """Perform each action after the answer to the one before; when the last reply came.
    ``already``: messages the chat got before (an untimed /start)."""
    user = fake.user(chat_id)
    expected = already
    for perform, sends in steps:
        queued = time.time()
        perform(user)
        expected += sends

        def answered(expected: int = expected) -> bool:
            return watch.sent.get(chat_id, 0) >= expected

        await watch.until(chat_id, answered, ANSWER_TIMEOUT)
        latencies.append((watch.sent_at[chat_id][expected - 1] - queued) * 1000)
    return watch.sent_at[chat_id][expected - 1]


async def _measure(
    fake: Any,
    pid: int,
    plans: dict[int, list[tuple[Any, int]]],
    already: dict[int, int] | None = None,
) -> Load:
    from tests.fakes.patients import Watch

    latencies: list[float] = []
    before = already or {}
    async with Watch(fake) as watch:
        cpu = _cpu_seconds(pid)
        start = time.time()
        ends = await asyncio.gather(
            *(
                _drive(fake, watch, chat, steps, latencies, before.get(chat, 0))
                for chat, steps in plans.items()
            )
        )
        cpu_after = _cpu_seconds(pid)
    used = None if cpu is None or cpu_after is None else cpu_after - cpu
    return Load(sum(len(steps) for steps in plans.values()), max(ends) - start, latencies, used)


async def _warm_up(fake: Any, chat_id: int, text: str) -> None:
    """One round trip before measuring: the bot is polling and its connections are open."""
    fake.user(chat_id).send_text(text)
    await fake.wait_for(lambda: fake.messages(chat_id), START_TIMEOUT, "the bot's first answer")


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


async def _hipbot(data: Path, flows: Path) -> Load:
    from tests.fakes.bot_api import FakeBotApi
    from tests.fakes.bot_process import BotProcess
    from tests.fakes.patients import script_patients

    scripts = script_patients(
        flows, range(1_000_001, 1_000_001 + CHATS), length=(ACTIONS, ACTIONS), seed=SEED
    )
    plans = {
        s.chat_id: [(action.perform, len(action.sends)) for action in s.actions] for s in scripts
    }
    async with FakeBotApi() as fake:
        bot = BotProcess(
            fake, data, HIPBOT_FLOWS=str(flows), HIPBOT_RATE_LIMIT="1000", HIPBOT_LOG_FORMAT="json"
        )
        bot.start()
        assert bot.process is not None
        try:
            await _warm_up(fake, 999, "/start")
            return await _measure(fake, bot.process.pid, plans)
        finally:
            code = await asyncio.to_thread(_stop, bot.process)
            if code != 0:
                print(bot.logs()[-3000:], file=sys.stderr)


async def _echo(data: Path, transport: str = "httpx") -> Load:
    from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi

    def text(user: Any, n: int) -> None:
        user.send_text(f"message {n}")

    plans = {
        chat: [(lambda user, n=n: text(user, n), 1) for n in range(ACTIONS)]
        for chat in range(2_000_001, 2_000_001 + CHATS)
    }
    async with FakeBotApi() as fake:
        env = {**os.environ, "ECHO_TOKEN": DEFAULT_TOKEN, "ECHO_BASE_URL": fake.base_url}
        with open(data / f"echo-{transport}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.telegram", "--echo-bot", transport],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        try:
            await _warm_up(fake, 998, "hello")
            return await _measure(fake, process.pid, plans)
        finally:
            await asyncio.to_thread(_stop, process)


Runs = dict[str, list[Load]]


async def _rounds(folder: Path) -> Runs:
    """Every bot ``ROUNDS`` times, in a rotating order; each on a fresh fake server (and
    hipbot on a fresh database)."""
    flows = folder / "flows"
    shutil.copytree(ROOT / "flows", flows, ignore=shutil.ignore_patterns("transcripts"))
    bots = {
        "hipbot": lambda data: _hipbot(data, flows),
        "echo": lambda data: _echo(data, "httpx"),
        "echo_aiohttp": lambda data: _echo(data, "aiohttp"),
    }
    runs: Runs = {name: [] for name in bots}
    names = list(bots)
    for number in range(ROUNDS):
        data = folder / f"round-{number}"
        data.mkdir()
        for name in names[number % 3 :] + names[: number % 3]:
            runs[name].append(await bots[name](data))
    return runs


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def run_walk(json: bool = False) -> int:
    """``python -m bench telegram-walk``: scripted patients through the whole flow."""
    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as folder:
        runs = asyncio.run(_rounds(Path(folder)))
    hips, echoes = runs["hipbot"], runs["echo"]
    hip, echo, same = (max(runs[name], key=lambda load: load.per_second) for name in runs)
    ratio = hip.per_second / echo.per_second

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    result = {
        "updates_per_s": round(hip.per_second, 1),
        "p50_ms": round(percentile(hip.latencies_ms, 0.5), 2),
        "p99_ms": round(percentile(hip.latencies_ms, 0.99), 2),
        "cpu_ms_per_update": rounded(hip.cpu_ms_per_update),
        "echo_updates_per_s": round(echo.per_second, 1),
        "echo_p50_ms": round(percentile(echo.latencies_ms, 0.5), 2),
        "echo_p99_ms": round(percentile(echo.latencies_ms, 0.99), 2),
        "echo_cpu_ms_per_update": rounded(echo.cpu_ms_per_update),
        "ratio": round(ratio, 3),
        "echo_aiohttp_updates_per_s": round(same.per_second, 1),
        "echo_aiohttp_cpu_ms_per_update": rounded(same.cpu_ms_per_update),
        "ratio_same_transport": round(hip.per_second / same.per_second, 3),
        "rounds_updates_per_s": [round(load.per_second, 1) for load in hips],
        "rounds_echo_updates_per_s": [round(load.per_second, 1) for load in echoes],
        "updates": hip.updates,
        "chats": CHATS,
        "actions_per_chat": ACTIONS,
        "target_met": ratio >= TARGET_RATIO,
    }
    mark = "ok" if result["target_met"] else "OFF TARGET"
    rounds = ", ".join(f"{load.per_second:.0f}" for load in hips)
    echo_rounds = ", ".join(f"{load.per_second:.0f}" for load in echoes)
    rows = [
        ("updates_per_s", f"{hip.per_second:.1f}", f"hipbot run, best of rounds: {rounds}"),
        ("p50_ms", f"{result['p50_ms']:.1f} ms", "update queued -> its last reply received"),
        ("p99_ms", f"{result['p99_ms']:.1f} ms", ""),
        ("cpu_ms_per_update", _ms(hip.cpu_ms_per_update), "the bot process, user + system"),
        ("echo_updates_per_s", f"{echo.per_second:.1f}", f"bare PTB echo, rounds: {echo_rounds}"),
        ("echo_p50_ms", f"{result['echo_p50_ms']:.1f} ms", ""),
        ("echo_p99_ms", f"{result['echo_p99_ms']:.1f} ms", ""),
        ("echo_cpu_ms_per_update", _ms(echo.cpu_ms_per_update), ""),
        ("ratio", f"{ratio:.2f}", f"target >= {TARGET_RATIO}: {mark}"),
        (
            "echo_aiohttp_updates_per_s",
            f"{same.per_second:.1f}",
            "the echo bot on hipbot's HTTP backend (AiohttpRequest)",
        ),
        ("echo_aiohttp_cpu_ms_per_update", _ms(same.cpu_ms_per_update), ""),
        ("ratio_same_transport", f"{result['ratio_same_transport']:.2f}", "hipbot / that echo"),
    ]
    title = (
        f"bench telegram: {CHATS} chats x {ACTIONS} actions ({hip.updates} updates a run), "
        f"fake Bot API on 127.0.0.1, SQLite, {ROUNDS} rounds"
    )
    report(title, rows, result, json)
    return 0


# ---------------------------------------------------------------- issue 13: the "menu" loop

LOOP_CHATS = 50
LOOP_SENDS = 40
LOOP_TEXT = "menu"
TARGET_AIOGRAM_RATIO = 1.0
TARGET_P99_MS = 250.0
AIOGRAM_VENV = ROOT / ".venv-aiogram"
AIOGRAM_REQUIREMENTS = ROOT / "bench" / "aiogram-requirements.txt"
HIP_CHATS = range(3_000_001, 3_000_001 + LOOP_CHATS)
ECHO_CHATS = range(4_000_001, 4_000_001 + LOOP_CHATS)


def _loop_plans(chats: range, sends: int) -> dict[int, list[tuple[Any, int]]]:
    def menu(user: Any) -> None:
        user.send_text(LOOP_TEXT)

    return {chat: [(menu, sends)] * LOOP_SENDS for chat in chats}


def _expected_sends(flows: Path) -> tuple[int, int]:
    """How many messages /start and then each typed "menu" get, by the engine."""
    from tests.fakes.patients import _sends, engine_for, simulate

    engine = engine_for(flows)
    outcome, replies = simulate(engine, None, "1", "start", "", ())
    start = len(_sends(replies))
    session, menus = outcome.session, []
    for _ in range(2):
        outcome, replies = simulate(engine, session, "1", "text", LOOP_TEXT, ())
        menus.append(len(_sends(replies)))
        session = outcome.session
    if menus != [1, 1]:
        raise RuntimeError(f"typed {LOOP_TEXT!r} is answered with {menus} messages, not one")
    return start, 1


def _sent(fake: Any) -> dict[int, int]:
    """sendMessage calls the fake accepted, per chat."""
    counts: dict[int, int] = {}
    for call in fake.calls("sendMessage"):
        chat = call.params.get("chat_id")
        if call.status == 200 and isinstance(chat, int):
            counts[chat] = counts.get(chat, 0) + 1
    return counts


async def _check_replies(fake: Any, chats: range, expected: int, bot: str) -> None:
    """Every chat got exactly the messages waited for (a second message to a "menu" would
    have made the loop measure the wrong thing)."""
    await asyncio.sleep(0.5)  # a late extra message shows up
    sent = _sent(fake)
    wrong = {chat: sent.get(chat, 0) for chat in chats if sent.get(chat, 0) != expected}
    if wrong:
        chat, count = next(iter(wrong.items()))
        raise RuntimeError(
            f"{bot}: {len(wrong)} chat(s) got other than {expected} messages (chat {chat}: "
            f"{count}): the reply to {LOOP_TEXT!r} is not one message"
        )


async def _loop_hipbot(data: Path, flows: Path) -> Load:
    from tests.fakes.bot_api import FakeBotApi
    from tests.fakes.bot_process import BotProcess

    start_sends, menu_sends = _expected_sends(flows)
    async with FakeBotApi() as fake:
        bot = BotProcess(
            fake, data, HIPBOT_FLOWS=str(flows), HIPBOT_RATE_LIMIT="1000", HIPBOT_LOG_FORMAT="json"
        )
        bot.start()
        assert bot.process is not None
        try:
            await _warm_up(fake, 999, "/start")
            for chat in HIP_CHATS:  # untimed: every patient at the menu first
                fake.user(chat).send_command("/start")
            await fake.wait_for(
                lambda: all(_sent(fake).get(c, 0) >= start_sends for c in HIP_CHATS),
                ANSWER_TIMEOUT,
                "every patient's /start answered",
            )
            already = _sent(fake)
            load = await _measure(
                fake, bot.process.pid, _loop_plans(HIP_CHATS, menu_sends), already
            )
            await _check_replies(fake, HIP_CHATS, start_sends + menu_sends * LOOP_SENDS, "hipbot")
            return load
        finally:
            code = await asyncio.to_thread(_stop, bot.process)
            if code != 0:
                print(bot.logs()[-3000:], file=sys.stderr)


def _aiogram_python() -> tuple[Path | None, str]:
    """The interpreter of .venv-aiogram, made (pinned) when missing; or None and why not."""
    python = AIOGRAM_VENV / "bin" / "python"
    stamp = AIOGRAM_VENV / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= AIOGRAM_REQUIREMENTS.stat().st_mtime:
        return python, ""
    steps = [
        [sys.executable, "-m", "venv", str(AIOGRAM_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(AIOGRAM_REQUIREMENTS)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False, timeout=600)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"aiogram echo bot skipped: {' '.join(step[:4])} failed: {reason}"
    stamp.touch()
    return python, ""


async def _loop_echo(data: Path, bot: str, python: Path | None = None) -> Load:
    from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi

    if bot == "aiogram":
        assert python is not None
        command = [str(python), str(ROOT / "bench" / "aiogram_echo.py")]
    else:
        command = [sys.executable, "-m", "bench.telegram", "--echo-bot", "httpx"]
    async with FakeBotApi() as fake:
        env = {**os.environ, "ECHO_TOKEN": DEFAULT_TOKEN, "ECHO_BASE_URL": fake.base_url}
        with open(data / f"loop-{bot}.log", "wb") as log:
            process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            await _warm_up(fake, 998, "hello")
            load = await _measure(fake, process.pid, _loop_plans(ECHO_CHATS, 1))
            await _check_replies(fake, ECHO_CHATS, LOOP_SENDS, f"{bot} echo")
            return load
        finally:
            await asyncio.to_thread(_stop, process)


async def _loop_rounds(folder: Path, aiogram: Path | None) -> Runs:
    flows = folder / "flows"
    shutil.copytree(ROOT / "flows", flows, ignore=shutil.ignore_patterns("transcripts"))
    bots = {
        "hipbot": lambda data: _loop_hipbot(data, flows),
        "ptb": lambda data: _loop_echo(data, "ptb"),
    }
    if aiogram is not None:
        bots["aiogram"] = lambda data: _loop_echo(data, "aiogram", aiogram)
    runs: Runs = {name: [] for name in bots}
    names = list(bots)
    for number in range(ROUNDS):
        data = folder / f"round-{number}"
        data.mkdir()
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            runs[name].append(await bots[name](data))
    return runs


def _best(loads: list[Load]) -> Load:
    return max(loads, key=lambda load: load.per_second)


def run(json: bool = False) -> int:
    aiogram, note = _aiogram_python()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as folder:
        runs = asyncio.run(_loop_rounds(Path(folder), aiogram))
    load_after = os.getloadavg()[0]
    hip, ptb = _best(runs["hipbot"]), _best(runs["ptb"])
    aio = _best(runs["aiogram"]) if "aiogram" in runs else None
    p99 = percentile(hip.latencies_ms, 0.99)
    ratio_aiogram = None if aio is None else hip.per_second / aio.per_second

    def rounded(value: float | None, digits: int = 2) -> float | None:
        return None if value is None else round(value, digits)

    result: dict[str, Any] = {
        "updates_per_s": round(hip.per_second, 1),
        "p50_ms": round(percentile(hip.latencies_ms, 0.5), 2),
        "p99_ms": round(p99, 2),
        "cpu_ms_per_update": rounded(hip.cpu_ms_per_update),
        "ptb_echo_updates_per_s": round(ptb.per_second, 1),
        "ptb_echo_cpu_ms_per_update": rounded(ptb.cpu_ms_per_update),
        "aiogram_echo_updates_per_s": None if aio is None else round(aio.per_second, 1),
        "aiogram_echo_cpu_ms_per_update": None if aio is None else rounded(aio.cpu_ms_per_update),
        "ratio_ptb_echo": round(hip.per_second / ptb.per_second, 3),
        "ratio_aiogram_echo": rounded(ratio_aiogram, 3),
        "rounds_updates_per_s": {
            name: [round(load.per_second, 1) for load in loads] for name, loads in runs.items()
        },
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "cpus": os.cpu_count(),
        "chats": LOOP_CHATS,
        "sends_per_chat": LOOP_SENDS,
        "updates": hip.updates,
        "target_ratio_met": None
        if ratio_aiogram is None
        else ratio_aiogram >= TARGET_AIOGRAM_RATIO,
        "target_p99_met": p99 <= TARGET_P99_MS,
    }
    if note:
        result["aiogram_note"] = note

    def mark(met: bool | None) -> str:
        return "n/a" if met is None else "ok" if met else "OFF TARGET"

    rows = [
        ("updates_per_s", f"{hip.per_second:.1f}", f"hipbot run, {LOOP_TEXT!r} in a closed loop"),
        ("p50_ms", f"{result['p50_ms']:.1f} ms", "update queued -> its reply received"),
        (
            "p99_ms",
            f"{p99:.1f} ms",
            f"target <= {TARGET_P99_MS:.0f}: {mark(result['target_p99_met'])}",
        ),
        ("cpu_ms_per_update", _ms(hip.cpu_ms_per_update), "the bot process, user + system"),
        ("ptb_echo_updates_per_s", f"{ptb.per_second:.1f}", "bare PTB echo bot (httpx)"),
        ("ratio_ptb_echo", f"{result['ratio_ptb_echo']:.2f}", "hipbot / PTB echo"),
        (
            "aiogram_echo_updates_per_s",
            "n/a" if aio is None else f"{aio.per_second:.1f}",
            note or "bare aiogram echo bot (.venv-aiogram)",
        ),
        (
            "ratio_aiogram_echo",
            "n/a" if ratio_aiogram is None else f"{ratio_aiogram:.2f}",
            f"target >= {TARGET_AIOGRAM_RATIO}: {mark(result['target_ratio_met'])}",
        ),
        ("load_average", f"{load_before:.2f} -> {load_after:.2f}", f"1 min, {os.cpu_count()} CPUs"),
    ]
    title = (
        f"bench telegram: {LOOP_CHATS} patients x {LOOP_SENDS} {LOOP_TEXT!r} in a closed loop, "
        f"fake Bot API on 127.0.0.1, SQLite, best of {ROUNDS} rounds"
    )
    report(title, rows, result, json)
    return 0


# ---------------------------------------------------------------- the echo bot (subprocess)


def echo_bot(transport: str) -> None:
    """A bare PTB echo bot: what PTB alone costs per update against the same server.
    ``transport``: ``httpx`` (PTB's default backend) or ``aiohttp`` (hipbot's)."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    builder = (
        ApplicationBuilder()
        .token(os.environ["ECHO_TOKEN"])
        .base_url(os.environ["ECHO_BASE_URL"])
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if transport == "aiohttp":
        from bot.telegram.request import AiohttpRequest

        builder = builder.request(AiohttpRequest(CONNECTION_POOL)).get_updates_request(
            AiohttpRequest(1)
        )
    else:
        builder = builder.connection_pool_size(CONNECTION_POOL)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--echo-bot"]:
        echo_bot(sys.argv[2])
    else:
        sys.exit(run(json="--json" in sys.argv))
