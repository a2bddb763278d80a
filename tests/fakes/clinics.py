"""A clinic world for unit tests: storage, engine and the clinics feature, driven by hand.

``World`` calls the feature's handlers the way the adapters do (with a ``Context`` and an
injected clock); ``FakeBot`` stands in for Telegram under the real ``OutboxSender``.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram.error import BadRequest, Forbidden

from bot.engine import Engine
from bot.features import Context, Loaded, Response, load_features
from bot.features.clinics.broadcast import Outcomes
from bot.features.clinics.store import Clinic, ClinicStore
from bot.loader import load_bundle
from bot.model import AnswerValue, Event
from bot.storage import SqlStorage, open_storage
from bot.storage.base import OutboxRow
from bot.telegram.render import render

FLOWS = Path(__file__).resolve().parents[2] / "flows"
NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC
_BUNDLE = load_bundle([FLOWS])


class World:
    def __init__(self, path: str = ":memory:", now: float = NOW) -> None:
        """``path``: a SQLite file (or ``:memory:``), or a database URL such as
        ``postgresql://...``."""
        self.path = path
        storage = open_storage(path) if "://" in path else SqlStorage(path)
        assert isinstance(storage, SqlStorage)
        self.storage = storage
        self.features = load_features(
            ["bot.features.clinics"], Loaded(bundle=_BUNDLE, paths=[str(FLOWS)])
        )
        self.features.setup(self.storage)
        self.engine = Engine(_BUNDLE)
        self.store = ClinicStore(self.storage.db)
        self.now = now
        for hook in self.storage.outcome_hooks:  # the sender's outcomes read our clock too
            if isinstance(hook, Outcomes):
                hook.clock = lambda: self.now

    def restart(self) -> World:
        """The same database in a new process (the old connection is closed, as a killed
        process's would be; an in-memory database is simply dropped)."""
        if self.path != ":memory:":
            self.storage.close()
        world = World(self.path, self.now)
        world.storage.release_claims()
        return world

    # ------------------------------------------------------------ people

    def ctx(self, user: int | str, args: str = "") -> Context:
        user_id = str(user)
        return Context(
            user_id=user_id,
            chat_id=int(user_id),
            storage=self.storage,
            engine=self.engine,
            now=self.now,
            args=args,
            session=self.storage.load_session(user_id),
            ports=self.features.ports(self.storage),
        )

    def command(self, user: int | str, name: str, args: str = "") -> Response:
        return self.features.commands[name](self.ctx(user, args))

    def press(self, user: int | str, data: str) -> Response:
        response = self.features.press(self.ctx(user), data)
        assert response is not None, f"no feature button {data!r}"
        return response

    def type(self, user: int | str, text: str) -> Response | None:
        return self.features.read_text(self.ctx(user), text)

    def turn(self, user: int | str, event: Event) -> None:
        """One engine turn committed like an adapter does (effects in the transaction)."""
        session = self.storage.load_session(str(user))
        outcome = self.engine.handle(session, event, str(user))
        self.storage.commit_turn(outcome.session, outcome.effects, [], self.now)

    def start(self, user: int | str, payload: str = "") -> None:
        self.turn(user, Event.start(payload))

    def join(self, user: int | str, code: str) -> Response:
        """Open a clinic's link and tap yes."""
        self.start(user, code)
        return self.press(user, f"x:cj:{code}")

    def answer(self, user: int | str, language: str = "en", **answers: AnswerValue) -> None:
        session = self.storage.load_session(str(user)) or self.engine.new_session(str(user))
        changed = replace(
            session,
            answers={**session.answers, **answers},
            language=language,
            revision=session.revision + 1,
        )
        self.storage.commit_turn(changed, (), (), self.now)

    def clinic(self, name: str) -> Clinic:
        return self.store.add_clinic(name, self.now)

    def patients(self, clinic: Clinic, first: int, count: int) -> list[int]:
        users = list(range(first, first + count))
        for user in users:
            self.join(user, clinic.code)
        return users

    # ------------------------------------------------------------ the outbox

    def outbox(self) -> list[OutboxRow]:
        """Every due row, in the order the sender claims them (then released again)."""
        return self.storage.claim_outbox(10_000, self.now + 10**9, lease=-(10**9))

    def messages_to(self, user: int) -> list[dict[str, Any]]:
        """What Telegram would be asked to send this person, with the rows' notes (``_``)."""
        return [telegram_params(row) for row in self.outbox() if row.chat_id == user]


def telegram_params(row: OutboxRow) -> dict[str, Any]:
    """An outbox row as the Bot API call's parameters (``bot.telegram.render``), with the
    row's notes (``_delivery``, ``_step`` ...) kept for the tests to look at."""
    notes = {k: v for k, v in row.params.items() if k.startswith("_")}
    return {**render(row.chat_id, row.method, row.params).params, **notes}


class FakeBot:
    """Telegram for the real OutboxSender: records what it accepted; 403 for blocked chats,
    400 for ``bad`` chats; with ``hang_after`` it accepts that many messages, then accepts
    and never answers (a process killed while those are in flight)."""

    def __init__(
        self,
        received: list[tuple[int, dict[str, Any]]] | None = None,
        blocked: set[int] | None = None,
        bad: set[int] | None = None,
        hang_after: int | None = None,
    ) -> None:
        self.received = [] if received is None else received
        self.blocked = blocked or set()
        self.bad = bad or set()
        self.hang_after = hang_after
        self.hung = 0
        self._never = asyncio.Event()

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any]) -> Any:
        chat = int(api_kwargs["chat_id"])
        if chat in self.blocked:
            raise Forbidden("Forbidden: bot was blocked by the user")
        if chat in self.bad:
            raise BadRequest("Bad Request: can't parse entities")
        self.received.append((chat, dict(api_kwargs)))
        if self.hang_after is not None and len(self.received) > self.hang_after:
            self.hung += 1
            await self._never.wait()
        return {"message_id": len(self.received)}

    def texts_to(self, chat: int) -> list[str]:
        return [params.get("text", "") for to, params in self.received if to == chat]
