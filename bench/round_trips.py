"""PostgreSQL round trips per turn, counted on the wire (``pg_round_trips_per_turn`` in
``python -m bench replicas``).

The bot's turn service (``bot.turns``, as ``hipbot run`` sets it up: every feature, the
Telegram channel) runs in this process on a database reached through a small TCP proxy. The
proxy counts each time the client speaks after the server has answered: every wait for the
server is such a turn of the talk, so the count is never below the round trips the client
made, however it batches or pipelines its statements. Each of ``CHATS`` patients sends
/start and "menu" (untimed), then ``TURNS`` times "menu", one after another, as Telegram updates
with their ids; the proxy's count over those turns, divided by their number, is the figure.
The outbox sender does not run here (its own round trips are per batch of rows, not per turn).
"""

from __future__ import annotations

import selectors
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
CHATS = 20
TURNS = 10


@dataclass
class Proxy:
    """Forwards one TCP port to the database server and counts the client's turns to talk."""

    target: tuple[str, int]
    listener: socket.socket = field(default_factory=socket.socket)
    exchanges: int = 0
    _stop: bool = False

    def start(self) -> int:
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()
        return int(self.listener.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        last = server  # who spoke last: a new connection starts with the client's turn
        while True:
            for key, _ in selector.select():
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                data = source.recv(65536)
                if not data:
                    client.close()
                    server.close()
                    return
                if source is client and last is server:
                    self.exchanges += 1
                last = source
                key.data.sendall(data)

    def close(self) -> None:
        self._stop = True
        self.listener.close()


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def measure(url: str) -> float:
    """Round trips per "menu" turn on the PostgreSQL database at ``url``."""
    import bot.kinds  # noqa: F401  registers the document kinds with the loader
    from bot.engine import Engine
    from bot.features import load_features
    from bot.loader import load_bundle
    from bot.storage import SqlStorage, open_storage
    from bot.telegram.app import TELEGRAM
    from bot.turns import Inbound, Turns

    parts = urlsplit(url)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    storage = open_storage(through(url, proxy.start()))
    assert isinstance(storage, SqlStorage)
    try:
        features = load_features()
        features.setup(storage)
        engine = Engine(load_bundle([REPO / "flows"]), {"emergency_number": "112"})
        turns = Turns(engine, storage, features, TELEGRAM)
        update = iter(range(1, 10**9))
        chats = range(70_000, 70_000 + CHATS)
        for chat in chats:  # untimed: everyone at the menu, each statement run once
            turns.handle(Inbound(chat, "start", seen=(1, next(update))))
            turns.handle(Inbound(chat, "text", text="menu", seen=(1, next(update))))
        before = proxy.exchanges
        for _ in range(TURNS):
            for chat in chats:
                turns.handle(Inbound(chat, "text", text="menu", seen=(1, next(update))))
        return (proxy.exchanges - before) / (TURNS * CHATS)
    finally:
        storage.close()
        proxy.close()
