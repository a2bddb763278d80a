"""``python -m bench privacy``: what privacy costs.

- ``seal_us`` / ``open_us``: sealing and opening one session record of the shipped flow
  with a realistic set of answers (AES-256-GCM, ``bot.crypto``);
  ``fernet_seal_us`` / ``fernet_open_us``: the same record with Fernet, as values were
  sealed before (they still open), measured in the same run; ``seal_speedup``: Fernet's
  seal + open time over AES-GCM's.
- ``turn_us`` / ``turn_plain_us``: ``SqlStorage.commit_turn`` of one turn (session, one
  effect, two outbox rows) with the data key, and with a codec that does not encrypt, on a
  SQLite file; ``turn_overhead_us`` is the difference.
- ``rotate_values_per_s``: ``hipbot keys rotate``'s re-sealing speed over a database of
  ``PEOPLE`` people.
- ``delete_ms``: ``/delete`` of one person (every store's eraser), median.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cryptography.fernet import Fernet

from bench import median, report
from bot import crypto
from bot.features import load_features
from bot.model import Effect, Session
from bot.storage.base import session_to_json
from bot.storage.sql import SqlStorage

PEOPLE = 2000
TURNS = 2000
ANSWERS = {
    **{f"rf_{name}": False for name in ("fall", "fever", "sudden", "child", "nerves", "weak")},
    "_consent": 1,
    "signs": ["stiffness", "clicking", "front_pain"],
    "pain_now": 6,
    "hurts": ["sitting", "driving", "stairs"],
    "desk_work": True,
}


class PlainCodec(crypto.Codec):
    """The same interface, no encryption: the baseline."""

    def seal(self, text: str) -> str:
        return text

    def open(self, text: str) -> str:
        return text


def _session(user: str, revision: int) -> Session:
    return Session(user, "hip", 1, "sx_hurts", ANSWERS, revision=revision)


def _per_call_us(call: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(runs):
            call()
        samples.append((time.perf_counter() - start) / runs * 1e6)
    return median(samples)


def _turns_us(storage: SqlStorage) -> float:
    row = (1, "sendMessage", {"chat_id": 1, "text": "Question 3 of 4. Which of these..." * 3})
    session = _session("1", 1)
    storage.commit_turn(session, now=1.0)
    start = time.perf_counter()
    for turn in range(2, TURNS + 2):
        session = replace(session, revision=turn)
        storage.commit_turn(session, [Effect("red_flag", {"flag": "x"})], [row, row], now=turn)
    return (time.perf_counter() - start) / TURNS * 1e6


def run(json: bool = False) -> int:
    codec = crypto.Codec([crypto.new_key().encode()])
    record = session_to_json(_session("123456789", 7))
    sealed = codec.seal(record)
    seal_us = _per_call_us(lambda: codec.seal(record), 2000)
    open_us = _per_call_us(lambda: codec.open(sealed), 2000)
    fernet = Fernet(codec.keys[0])
    token = fernet.encrypt(record.encode()).decode()
    fernet_seal_us = _per_call_us(lambda: fernet.encrypt(record.encode()).decode(), 2000)
    fernet_open_us = _per_call_us(lambda: codec.open(token), 2000)  # through the codec
    speedup = (fernet_seal_us + fernet_open_us) / (seal_us + open_us)
    with tempfile.TemporaryDirectory() as folder:
        sealed_store = SqlStorage(str(Path(folder) / "sealed.db"))
        plain_store = SqlStorage(str(Path(folder) / "plain.db"))
        crypto.use_codec(plain_store.db, PlainCodec([crypto.new_key().encode()]))
        turn_us, plain_us = _turns_us(sealed_store), _turns_us(plain_store)
        plain_store.close()
        load_features().setup(sealed_store)
        for person in range(PEOPLE):  # (bench: no clinic or reminder rows)
            sealed_store.commit_turn(_session(str(10_000 + person), 1), now=1.0)
        start = time.perf_counter()
        done = crypto.reseal_all(
            sealed_store.db, crypto.Codec([crypto.new_key().encode(), *sealed_store.codec.keys])
        )
        rotate_s = time.perf_counter() - start
        values = sum(done.values())
        deletes = []
        for person in range(50):
            start = time.perf_counter()
            sealed_store.delete_user(str(10_000 + person))
            deletes.append((time.perf_counter() - start) * 1e3)
        sealed_store.close()
    result = {
        "seal_us": round(seal_us, 1),
        "open_us": round(open_us, 1),
        "record_bytes": len(record),
        "sealed_bytes": len(sealed),
        "fernet_seal_us": round(fernet_seal_us, 1),
        "fernet_open_us": round(fernet_open_us, 1),
        "fernet_sealed_bytes": len(token),
        "seal_speedup": round(speedup, 1),
        "turn_us": round(turn_us, 1),
        "turn_plain_us": round(plain_us, 1),
        "turn_overhead_us": round(turn_us - plain_us, 1),
        "rotate_values_per_s": round(values / rotate_s),
        "rotate_values": values,
        "delete_ms": round(median(deletes), 2),
    }
    rows = [
        (
            "seal_us",
            f"{seal_us:.1f} µs",
            f"one session record, {len(record)} -> {len(sealed)} bytes",
        ),
        ("open_us", f"{open_us:.1f} µs", "AES-256-GCM"),
        (
            "fernet_seal_us",
            f"{fernet_seal_us:.1f} µs",
            f"the same record as Fernet (before), {len(token)} bytes",
        ),
        ("fernet_open_us", f"{fernet_open_us:.1f} µs", "old values still open this way"),
        ("seal_speedup", f"{speedup:.1f}x", "Fernet seal + open over AES-GCM's"),
        ("turn_us", f"{turn_us:.1f} µs", "commit_turn: session + effect + 2 outbox rows, sealed"),
        ("turn_plain_us", f"{plain_us:.1f} µs", "the same without encryption"),
        ("turn_overhead_us", f"{turn_us - plain_us:.1f} µs", "what encryption adds to a turn"),
        ("rotate_values_per_s", f"{values / rotate_s:,.0f}", f"{values} values re-sealed"),
        ("delete_ms", f"{median(deletes):.2f} ms", "/delete of one person, every store"),
    ]
    report("bench privacy: encryption at rest and erasure", rows, result, json)
    return 0
