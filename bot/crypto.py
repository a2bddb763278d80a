"""Encryption at rest: what people told the bot is stored sealed with a key kept outside the
database.

Values are sealed with AES-256-GCM (``cryptography``'s ``AESGCM``, a random 96-bit nonce per
value): text ``gcm1:`` followed by base64 of a 4-byte key id, the nonce and the ciphertext with
its 16-byte tag. The AES key and the key id are derived from each configured data key with
HKDF-SHA256, so the keys people handle stay what they were (Fernet keys, 44 characters). The
first key seals, every key opens (the key id picks it), so a new key can be put in front of
the old one and the data re-sealed (``hipbot keys rotate``) without a moment where stored
values cannot be read. A changed value fails its tag and is refused, never read. Random
nonces stay safe for about 2**32 values per key: rotate the key long before that.

Values written before AES-GCM are Fernet tokens (AES-128-CBC with an HMAC-SHA256 tag, text
that always starts with ``gAAAAA``): they still open with the same keys, and are sealed with
AES-GCM when next written or by ``hipbot keys rotate`` (an older hipbot cannot read the new
values, so a downgrade needs a backup from before). AES-GCM is chosen for speed: a session
record seals and opens several times faster (``python -m bench privacy``).

Where the keys come from, first match wins:

1. ``HIPBOT_DATA_KEY``: one or more keys, comma-separated, the sealing key first
   (``hipbot keys new`` prints a key);
2. ``HIPBOT_DATA_KEY_FILE``: a file with one key a line, the sealing key first; created with
   a new key (mode 0600) when it does not exist yet;
3. a SQLite file database: the file ``<database>.key`` beside it, created on first use.
   The key is then outside the database (a copied ``.db`` file, a dump or a backup of the
   database alone reveals no answers) but on the same disk: in production point
   ``HIPBOT_DATA_KEY_FILE`` at a secret mounted from elsewhere (Docker or Kubernetes
   secrets). It is not put in the data directory's parent, because that is often not
   writable (``/`` for the Docker image's ``/data``) and a key that silently goes missing
   makes every stored answer unreadable;
4. an in-memory database: a key made for this process.

PostgreSQL (several replicas share one database) needs 1 or 2: a key made by each replica
on its own could not open the others' data.

Anything that starts with neither prefix is read as plain text, so a database written before
encryption was switched on still opens; its values are sealed when next written, and
``hipbot keys rotate`` seals every one at once. SQL that looks for sealed values uses
``sealed_filter`` (both prefixes).

Stores that keep health data in their own tables call ``encrypt_json``/``decrypt_json``
with their ``Database`` and register the column with ``sealed_column`` so that key rotation
re-seals it too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import tempfile
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import ConfigError
from bot.settings import data_key_settings

if TYPE_CHECKING:  # bot.storage imports this module
    from bot.storage.db import Database

KEY_ENV = "HIPBOT_DATA_KEY"
KEY_FILE_ENV = "HIPBOT_DATA_KEY_FILE"
GCM_PREFIX = "gcm1:"  # AES-256-GCM, this module's format 1: what values are sealed with
FERNET_PREFIX = "gAAAAA"  # Fernet tokens, written before AES-GCM: still opened
SEALED_PREFIXES = (GCM_PREFIX, FERNET_PREFIX)
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_TAG_BYTES = 16
_GCM_AAD = b"hipbot gcm1 "  # bound into every tag, followed by the key id
_BATCH = 500


class DataKeyError(ConfigError):
    """The data key is missing, malformed, or cannot open what is stored."""


def new_key() -> str:
    """A fresh random key (32 bytes, urlsafe base64), as HIPBOT_DATA_KEY takes it."""
    return Fernet.generate_key().decode()


def is_sealed(text: str) -> bool:
    return text.startswith(SEALED_PREFIXES)


def sealed_filter(column: str) -> tuple[str, tuple[str, ...]]:
    """An SQL condition true where ``column`` holds a sealed value (either format), and its
    parameters: ``where, params = sealed_filter("data")``."""
    where = " OR ".join(f"{column} LIKE ?" for _ in SEALED_PREFIXES)
    return f"({where})", tuple(prefix + "%" for prefix in SEALED_PREFIXES)


@dataclass(frozen=True)
class _GcmKey:
    key_id: bytes
    aead: AESGCM


def _gcm_key(key: bytes) -> _GcmKey:
    """The AES-256 key and the key id derived from a data key (HKDF-SHA256; a key id reveals
    nothing of the key, it only says which of the ring's keys sealed a value)."""
    raw = base64.urlsafe_b64decode(key)
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32 + _KEY_ID_BYTES, salt=None, info=b"hipbot gcm1"
    ).derive(raw)
    return _GcmKey(derived[32:], AESGCM(derived[:32]))


class Codec:
    """Seals and opens text with a key ring: the first key seals, every key opens."""

    def __init__(self, keys: Sequence[bytes], origin: str = "", path: Path | None = None) -> None:
        if not keys:
            raise DataKeyError("no data key given")
        self.keys = tuple(keys)
        self.origin = origin  # where the keys came from, for messages
        self.path = path  # the key file, when they came from one
        self._fernet = MultiFernet([Fernet(key) for key in self.keys])
        ring = [_gcm_key(key) for key in self.keys]
        self._sealer = ring[0]
        self._opener: dict[bytes, list[AESGCM]] = {}
        for gcm in ring:
            self._opener.setdefault(gcm.key_id, []).append(gcm.aead)

    def seal(self, text: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        key_id = self._sealer.key_id
        body = self._sealer.aead.encrypt(nonce, text.encode(), _GCM_AAD + key_id)
        return GCM_PREFIX + binascii.b2a_base64(key_id + nonce + body, newline=False).decode()

    def open(self, text: str) -> str:
        """The plain text of a sealed value; a value that is not sealed is returned as is."""
        if text.startswith(GCM_PREFIX):
            return self._open_gcm(text)
        if not text.startswith(FERNET_PREFIX):
            return text
        try:
            return self._fernet.decrypt(text.encode("ascii")).decode()
        except InvalidToken as error:
            raise self._wrong_key() from error

    def _open_gcm(self, text: str) -> str:
        try:
            blob = binascii.a2b_base64(text[len(GCM_PREFIX) :], strict_mode=True)
        except (binascii.Error, ValueError) as error:
            raise self._damaged("it is not base64") from error
        if len(blob) < _KEY_ID_BYTES + _NONCE_BYTES + _TAG_BYTES:
            raise self._damaged(f"it is {len(blob)} bytes, shorter than a sealed value")
        start = _KEY_ID_BYTES + _NONCE_BYTES
        key_id, nonce, body = blob[:_KEY_ID_BYTES], blob[_KEY_ID_BYTES:start], blob[start:]
        keys = self._opener.get(key_id)
        if keys is None:
            raise self._wrong_key()
        for aead in keys:
            try:
                return aead.decrypt(nonce, body, _GCM_AAD + key_id).decode()
            except InvalidTag:
                continue
        raise self._damaged("its tag does not match: it was changed after it was sealed")

    def _wrong_key(self) -> DataKeyError:
        return DataKeyError(
            f"stored data cannot be opened with the data key from {self.origin}: the key "
            f"changed or is missing. Put the old key back (after the new one in "
            f"{KEY_ENV}, or on a later line of the key file) and run 'hipbot keys rotate'"
        )

    def _damaged(self, why: str) -> DataKeyError:
        return DataKeyError(
            f"a stored value sealed with the data key from {self.origin} is damaged: {why}. "
            "It is not read; restore the database from a backup"
        )

    def reseal(self, text: str) -> str:
        """Sealed again with the first key, as AES-GCM (Fernet values and plain text left from
        before are converted)."""
        return self.seal(self.open(text))

    def seal_json(self, value: Any) -> str:
        return self.seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def open_json(self, text: str) -> Any:
        return json.loads(self.open(text))

    def pepper(self) -> bytes:
        """A secret derived from the sealing key, for hashing ids in logs (never the key)."""
        return hmac.new(self.keys[0], b"hipbot log ids", hashlib.sha256).digest()


# ---------------------------------------------------------------- keys


def _parse_keys(text: str, origin: str) -> list[bytes]:
    keys = []
    words = [w for line in text.splitlines() for w in line.split("#", 1)[0].split(",")]
    for number, key in enumerate((w.strip() for w in words if w.strip()), start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError) as error:
            raise DataKeyError(
                f"{origin}: key {number} is not a data key (44 characters of urlsafe base64); "
                "make one with 'hipbot keys new'"
            ) from error
        keys.append(key.encode())
    if not keys:
        raise DataKeyError(f"{origin} holds no key; make one with 'hipbot keys new'")
    return keys


def write_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Replace a key file in one step (a crash leaves the old or the new file, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".hipbot-key-")
    with os.fdopen(handle, "w") as out:
        out.write("# hipbot data keys: the first seals, every one opens. Keep this secret.\n")
        out.writelines(key.decode() + "\n" for key in keys)
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def _create_key_file(path: Path) -> None:
    """Create a key file with a new key unless one exists (also against a racing process)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".hipbot-key-")
    with os.fdopen(handle, "w") as out:
        out.write("# hipbot data keys: the first seals, every one opens. Keep this secret.\n")
        out.write(new_key() + "\n")
    os.chmod(temp, 0o600)
    try:
        os.link(temp, path)  # atomic: fails if another process made it first
    except FileExistsError:
        pass
    finally:
        os.unlink(temp)


def default_key_file(database_path: str) -> Path | None:
    """The key file beside a SQLite database file; None for memory or a server database."""
    if database_path in ("", ":memory:") or "://" in database_path:
        return None
    return Path(database_path + ".key")


def load_codec(database_path: str, env: Mapping[str, str] | None = None) -> Codec:
    """The codec for a database, from the key settings described at the top of this module."""
    key, named = data_key_settings(env)
    if key:
        return Codec(_parse_keys(key, KEY_ENV), KEY_ENV)
    path = Path(named) if named else default_key_file(database_path)
    if path is None:
        if "://" in database_path:
            raise DataKeyError(
                f"a database server needs the data key set: {KEY_ENV} (make one with "
                f"'hipbot keys new') or {KEY_FILE_ENV}, the same on every replica"
            )
        return Codec([Fernet.generate_key()], "a key made for this in-memory database")
    if not path.exists():
        _create_key_file(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise DataKeyError(f"cannot read the data key file {path}: {error.strerror}") from error
    return Codec(_parse_keys(text, str(path)), str(path), path)


def key_file_codec(path: Path) -> Codec:
    """The keys of an existing key file (a backup's, a copy's source); never creates one."""
    try:
        text = path.read_text()
    except FileNotFoundError as error:
        raise DataKeyError(f"there is no data key file {path}") from error
    except OSError as error:
        raise DataKeyError(f"cannot read the data key file {path}: {error.strerror}") from error
    return Codec(_parse_keys(text, str(path)), str(path), path)


def configured_key(env: Mapping[str, str] | None = None) -> bool:
    """Whether the keys are set for every database (HIPBOT_DATA_KEY or HIPBOT_DATA_KEY_FILE)
    rather than taken from the file beside a SQLite database."""
    return any(data_key_settings(env))


def check_all_readable(db: Database, codec: Codec) -> None:
    """Fail with a sentence unless the codec opens the newest sealed value of every sealed
    column (a wrong key is found by any one of them)."""
    tables = set(db.tables())
    for sealed in SEALED_COLUMNS.values():
        if sealed.table not in tables:
            continue
        where, params = sealed_filter(sealed.column)
        row = db.one(
            f"SELECT {sealed.column} FROM {sealed.table} WHERE {where}"
            f" ORDER BY {sealed.key} DESC LIMIT 1",
            params,
        )
        if row is not None:
            codec.open(row[0])


_codecs: weakref.WeakKeyDictionary[Database, Codec] = weakref.WeakKeyDictionary()


def codec_for(db: Database) -> Codec:
    """The codec of a database, loaded once per connection."""
    codec = _codecs.get(db)
    if codec is None:
        codec = _codecs[db] = load_codec(db.path)
    return codec


def use_codec(db: Database, codec: Codec) -> None:
    """Make a database use these keys from now on (after a rotation, or in tests)."""
    _codecs[db] = codec


def encrypt_json(db: Database, value: Any) -> str:
    """Seal a JSON value for a column of this database (health answers, check-in history)."""
    return codec_for(db).seal_json(value)


def decrypt_json(db: Database, text: str) -> Any:
    """Open what ``encrypt_json`` sealed (plain JSON written before encryption opens too)."""
    return codec_for(db).open_json(text)


# ---------------------------------------------------------------- sealed columns


@dataclass(frozen=True)
class SealedColumn:
    table: str
    key: str  # a column that identifies the row
    column: str


SEALED_COLUMNS: dict[tuple[str, str], SealedColumn] = {}


def sealed_column(table: str, key: str, column: str) -> None:
    """Declare a column whose values are sealed, so 'hipbot keys rotate' re-seals it."""
    SEALED_COLUMNS[(table, column)] = SealedColumn(table, key, column)


for _table, _key, _column in (
    ("sessions", "user_id", "data"),
    ("journal", "id", "data"),
    ("outbox", "id", "params"),
):
    sealed_column(_table, _key, _column)


def check_readable(db: Database, codec: Codec) -> None:
    """Fail at start, with a sentence, when the key cannot open what is stored."""
    if "sessions" not in db.tables():
        return
    where, params = sealed_filter("data")
    row = db.one(
        f"SELECT data FROM sessions WHERE {where} ORDER BY updated_at DESC LIMIT 1", params
    )
    if row is not None:
        codec.open(row[0])


def sealed_count(db: Database) -> int:
    """How many values ``reseal_all`` goes through (for its progress bar)."""
    tables = set(db.tables())
    return sum(
        int(db.one(f"SELECT count(*) FROM {sealed.table}")[0])
        for sealed in SEALED_COLUMNS.values()
        if sealed.table in tables
    )


def reseal_all(
    db: Database, codec: Codec, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Seal every registered column again with the codec's first key, in one transaction.

    Returns the number of values re-sealed per table. Plain values left from before
    encryption are sealed too. ``progress`` is told how many values each batch did.
    """
    done: dict[str, int] = {}
    tables = set(db.tables())
    with db.transaction():
        for sealed in SEALED_COLUMNS.values():
            if sealed.table not in tables:
                continue
            count = 0
            last: Any = None
            while True:
                where = "" if last is None else f" WHERE {sealed.key} > ?"
                rows = db.all(
                    f"SELECT {sealed.key}, {sealed.column} FROM {sealed.table}{where}"
                    f" ORDER BY {sealed.key} LIMIT {_BATCH}",
                    () if last is None else (last,),
                )
                if not rows:
                    break
                db.executemany(
                    f"UPDATE {sealed.table} SET {sealed.column} = ? WHERE {sealed.key} = ?",
                    [(codec.reseal(value), key) for key, value in rows if value is not None],
                )
                count += len(rows)
                last = rows[-1][0]
                if progress is not None:
                    progress(len(rows))
            done[sealed.table] = done.get(sealed.table, 0) + count
    return done
