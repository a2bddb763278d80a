"""/metrics and /healthz over real HTTP from the real ``hipbot run`` against the fake Bot API:
on ``HIPBOT_METRICS_PORT`` in polling mode (what the Docker health check calls), on the
webhook port in webhook mode. The page is read with prometheus_client's own parser."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.errors import ConfigError
from bot.settings import RunSettings
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import BotProcess

CHAT = 5151
TIMEOUT = 20.0
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode()
            return int(response.status), response.headers["Content-Type"], body
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def scrape(base: str) -> Samples:
    status, content_type, text = get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain"), (status, content_type)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    assert key in samples, f"{name}{labels} is not on the page"
    return samples[key]


def welcomed(fake: FakeBotApi) -> bool:
    return any("Open the menu" in m.button_texts for m in fake.messages(CHAT))


@pytest.fixture
def polling_bot(fake: FakeBotApi, tmp_path: Path) -> Iterator[tuple[BotProcess, str]]:
    port = free_port()
    process = BotProcess(
        fake, tmp_path, HIPBOT_METRICS_PORT=str(port), HIPBOT_WEBHOOK_LISTEN="127.0.0.1"
    )
    with process:
        fake.wait_for_sync(lambda: fake.commands, TIMEOUT, "setMyCommands at start")
        yield process, f"http://127.0.0.1:{port}"


def test_polling_mode_serves_metrics_and_health_on_the_metrics_port(
    fake: FakeBotApi, polling_bot: tuple[BotProcess, str]
) -> None:
    _, base = polling_bot
    status, _, body = get(f"{base}/healthz")
    assert (status, json.loads(body)) == (200, {"ok": True})
    before = scrape(base)
    assert value(before, "hipbot_updates_handled_total") == 0
    assert value(before, "hipbot_outbox_due") == 0

    fake.fail_next("sendMessage", 500)  # the first reply fails once, then goes
    fake.user(CHAT).send_command("/start")
    fake.wait_for_sync(lambda: welcomed(fake), TIMEOUT, "the welcome")
    fake.wait_for_sync(
        lambda: value(scrape(base), "hipbot_outbox_pending") == 0, TIMEOUT, "an empty outbox"
    )
    after = scrape(base)
    assert value(after, "hipbot_updates_handled_total") == 1
    assert value(after, "hipbot_turn_seconds_count") == 1
    assert value(after, "hipbot_turn_seconds_bucket", le="+Inf") == 1
    assert value(after, "hipbot_sends_total", result="5xx") == 1
    assert value(after, "hipbot_sends_total", result="ok") == len(fake.messages(CHAT))
    assert value(after, "hipbot_sends_total", result="403") == 0
    assert value(after, "hipbot_outbox_oldest_due_age_seconds") == 0
    assert value(after, "hipbot_reminders_due") == 0
    assert value(after, "hipbot_reminders_sent_total") == 0
    assert value(after, "hipbot_broadcast_deliveries", state="pending") == 0
    assert value(after, "hipbot_task_errors_total", task="sender") == 0


def test_webhook_mode_serves_metrics_on_the_webhook_port(fake: FakeBotApi, tmp_path: Path) -> None:
    port = free_port()
    process = BotProcess(
        fake,
        tmp_path,
        HIPBOT_MODE="webhook",
        HIPBOT_WEBHOOK_LISTEN="127.0.0.1",
        HIPBOT_WEBHOOK_PORT=str(port),
        HIPBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}",
        HIPBOT_WEBHOOK_SECRET="metrics_test",
    )
    base = f"http://127.0.0.1:{port}"
    with process:
        fake.wait_for_sync(lambda: fake.calls("setWebhook"), TIMEOUT, "setWebhook")
        fake.user(CHAT).send_command("/start")  # the fake posts it to the webhook
        fake.wait_for_sync(lambda: welcomed(fake), TIMEOUT, "the welcome")
        samples = scrape(base)
        status, _, body = get(f"{base}/healthz")
    assert value(samples, "hipbot_updates_handled_total") == 1
    assert value(samples, "hipbot_sends_total", result="ok") >= 1
    assert (status, json.loads(body)) == (200, {"ok": True})


def test_metrics_port_and_health_stall_are_checked_at_start() -> None:
    base = {"TELEGRAM_BOT_TOKEN": "123:abc"}
    assert RunSettings.from_env(base).metrics_port is None
    assert RunSettings.from_env({**base, "HIPBOT_METRICS_PORT": " 9100 "}).metrics_port == 9100
    assert RunSettings.from_env({**base, "HIPBOT_HEALTH_STALL": "30"}).stall_seconds == 30
    for name, bad in [
        ("HIPBOT_METRICS_PORT", "abc"),
        ("HIPBOT_METRICS_PORT", "70000"),
        ("HIPBOT_HEALTH_STALL", "2"),
        ("HIPBOT_HEALTH_STALL", "soon"),
    ]:
        with pytest.raises(ConfigError) as error:
            RunSettings.from_env({**base, name: bad})
        assert name in str(error.value) and repr(bad) in str(error.value)
