"""AES-GCM sealing at rest (issue 13, performance): new values are AES-256-GCM behind a
version prefix, Fernet values written before still open, rotation converts them, and a
changed value or a value sealed with another key is refused."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot import crypto, doctor
from bot.model import Session
from bot.storage import SqlStorage

RECORD = '{"user_id":"7","answers":{"pain_now":6,"signs":["clicking"]},"note":"größer"}'


def _key() -> bytes:
    return crypto.new_key().encode()


def test_values_are_sealed_with_aes_gcm_and_open_again() -> None:
    codec = crypto.Codec([_key()])
    first, second = codec.seal(RECORD), codec.seal(RECORD)
    assert first.startswith(crypto.GCM_PREFIX) and crypto.is_sealed(first)
    assert first != second  # a fresh nonce per value
    assert RECORD not in first and "pain_now" not in first
    assert codec.open(first) == RECORD and codec.open(second) == RECORD
    assert codec.open_json(codec.seal_json({"a": [1, "ü"]})) == {"a": [1, "ü"]}
    assert codec.open(RECORD) == RECORD  # plain text from before encryption reads as it is


def test_fernet_values_from_before_still_open_with_any_key_of_the_ring() -> None:
    old = _key()
    token = Fernet(old).encrypt(RECORD.encode()).decode()
    assert token.startswith(crypto.FERNET_PREFIX) and crypto.is_sealed(token)
    assert crypto.Codec([old]).open(token) == RECORD
    assert crypto.Codec([_key(), old]).open(token) == RECORD  # old key second: still opens


def test_the_first_key_seals_and_every_key_opens() -> None:
    first, second = _key(), _key()
    ring = crypto.Codec([first, second])
    sealed = ring.seal(RECORD)
    assert crypto.Codec([first]).open(sealed) == RECORD
    with pytest.raises(crypto.DataKeyError, match="cannot be opened with the data key"):
        crypto.Codec([second]).open(sealed)
    by_second = crypto.Codec([second]).seal(RECORD)
    assert ring.open(by_second) == RECORD


@pytest.mark.parametrize("kind", ["gcm", "fernet"])
def test_a_value_sealed_with_another_key_is_refused_with_the_clear_error(kind: str) -> None:
    other = _key()
    if kind == "gcm":
        value = crypto.Codec([other]).seal(RECORD)
    else:
        value = Fernet(other).encrypt(RECORD.encode()).decode()
    codec = crypto.Codec([_key()], "HIPBOT_DATA_KEY")
    with pytest.raises(crypto.DataKeyError) as error:
        codec.open(value)
    message = str(error.value)
    assert "cannot be opened with the data key from HIPBOT_DATA_KEY" in message
    assert "hipbot keys rotate" in message


def _flip(sealed: str, index: int) -> str:
    blob = bytearray(base64.b64decode(sealed[len(crypto.GCM_PREFIX) :]))
    blob[index] ^= 0x01
    return crypto.GCM_PREFIX + base64.b64encode(bytes(blob)).decode()


@pytest.mark.parametrize("index", [4, 16, -1], ids=["nonce", "ciphertext", "tag"])
def test_a_changed_value_is_refused_not_read(index: int) -> None:
    codec = crypto.Codec([_key()], "the key file")
    sealed = codec.seal(RECORD)
    with pytest.raises(crypto.DataKeyError, match="is damaged: its tag does not match"):
        codec.open(_flip(sealed, index))


def test_a_changed_key_id_cut_or_garbled_value_is_refused() -> None:
    codec = crypto.Codec([_key()])
    sealed = codec.seal(RECORD)
    with pytest.raises(crypto.DataKeyError, match="cannot be opened with the data key"):
        codec.open(_flip(sealed, 0))  # names no key of the ring
    with pytest.raises(crypto.DataKeyError, match="shorter than a sealed value"):
        codec.open(crypto.GCM_PREFIX + base64.b64encode(b"0123456789").decode())
    with pytest.raises(crypto.DataKeyError, match="not base64"):
        codec.open(sealed[:-3] + "*!")


def test_reseal_converts_fernet_and_plain_values_to_the_first_key() -> None:
    old, new = _key(), _key()
    ring = crypto.Codec([new, old])
    for value in (Fernet(old).encrypt(RECORD.encode()).decode(), RECORD):
        again = ring.reseal(value)
        assert again.startswith(crypto.GCM_PREFIX)
        assert crypto.Codec([new]).open(again) == RECORD


def _store_with_fernet_values(path: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> SqlStorage:
    """A database as an older hipbot wrote it: its sealed values are Fernet tokens."""
    monkeypatch.setenv(crypto.KEY_ENV, key)
    store = SqlStorage(str(path))
    session = Session("7", "hip", 1, "menu", {"pain_now": 6}, revision=1)
    store.commit_turn(session, [], [(7, "sendMessage", {"chat_id": 7, "text": "Hi"})], now=1.0)
    fernet = Fernet(key.encode())
    for table, key_column, column in (("sessions", "user_id", "data"), ("outbox", "id", "params")):
        for row_key, value in store.db.all(f"SELECT {key_column}, {column} FROM {table}"):
            token = fernet.encrypt(store.codec.open(value).encode()).decode()
            store.db.execute(
                f"UPDATE {table} SET {column} = ? WHERE {key_column} = ?", (token, row_key)
            )
    return store


def test_rotation_converts_fernet_values_and_the_new_key_alone_opens_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = crypto.new_key()
    store = _store_with_fernet_values(tmp_path / "old.db", old, monkeypatch)
    try:
        assert store.load_session("7") is not None  # Fernet values open
        new = crypto.Codec([_key(), old.encode()])
        done = crypto.reseal_all(store.db, new)
        assert done["sessions"] == 1 and done["outbox"] == 1
        values = [store.db.one("SELECT data FROM sessions")[0]]
        values.append(store.db.one("SELECT params FROM outbox")[0])
        assert all(v.startswith(crypto.GCM_PREFIX) for v in values)
        only_new = crypto.Codec(new.keys[:1])
        assert only_new.open_json(values[0])["answers"] == {"pain_now": 6}
        assert only_new.open_json(values[1])["text"] == "Hi"
        crypto.check_all_readable(store.db, only_new)
        with pytest.raises(crypto.DataKeyError):
            crypto.check_all_readable(store.db, crypto.Codec([old.encode()]))
    finally:
        store.close()


def test_a_wrong_key_is_found_at_start_when_every_value_is_aes_gcm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start-up and doctor checks look for sealed values of both formats."""
    monkeypatch.setenv(crypto.KEY_ENV, crypto.new_key())
    path = tmp_path / "gcm.db"
    store = SqlStorage(str(path))
    store.commit_turn(Session("7", "hip", 1, "menu", {"pain_now": 6}, revision=1), now=1.0)
    assert store.db.one("SELECT data FROM sessions")[0].startswith(crypto.GCM_PREFIX)
    assert doctor._has_sealed_data(store.db)
    store.close()
    monkeypatch.setenv(crypto.KEY_ENV, crypto.new_key())
    with pytest.raises(crypto.DataKeyError, match="cannot be opened with the data key"):
        SqlStorage(str(path))
