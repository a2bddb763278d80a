"""PTB's HTTP over aiohttp: the networking backend ``hipbot run`` gives python-telegram-bot.

PTB's default backend (httpx over httpcore and anyio) costs about 1.5-2 ms of CPU per Bot
API call once many calls are in flight: httpcore scans its whole pool, with a ``select()``
per idle connection, whenever a request starts or ends. The bot makes two to three calls
per update (answer the button, show the choice, send the next step), so that backend was
most of its CPU: ``python -m bench telegram`` measured about 6.5 ms of CPU and 110 updates/s,
against 2.2 ms and 400-500 updates/s for a bare PTB echo bot. Over aiohttp, already a
dependency for the webhook server, the same run takes about 2 ms of CPU per update and
serves 250-440 updates/s (the echo bot itself: 0.5 ms per update over aiohttp).

PTB supports custom backends (``telegram.request.BaseRequest``): requests, answers, error
mapping (``RetryAfter``, ``Forbidden``, ``BadRequest`` from the status and body) stay PTB's.
This module only moves bytes: it raises ``TimedOut`` for a timeout and ``NetworkError`` for
any other transport failure, as PTB's own backend does.

Timeouts: ``connect_timeout`` bounds opening a connection and ``read_timeout`` each wait for
data; a request waits for a free connection as long as it takes (no pool timeout: callers
bound their own concurrency, and a pool timeout would only turn load into retries). aiohttp
has no write timeout; a stalled write ends with the read timeout.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` over one ``aiohttp.ClientSession`` with ``connections`` at most."""

    def __init__(
        self,
        connections: int = 64,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> Any:
    """Form fields (nested values JSON-encoded, as PTB sends them); multipart with files."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
