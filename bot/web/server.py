"""The web chat's HTTP side: the page, a small JSON API, and the rules around them.

* ``GET /`` the page (static HTML; its script and style are files: no inline code);
* ``GET /api/history`` where the person left off, and the CSRF token for this session;
* ``POST /api/send`` ``{"text": ...}`` or ``{"button": ...}``: one turn, its messages back;
* ``GET /pictures/<name>.png`` a picture the flows show (``bot.pictures``), by file name.

A person is a random id in an HttpOnly, SameSite=Strict cookie (Secure over https); nothing
else is asked or kept, and the id itself is not stored (``chat.web_chat_id`` hashes it).
Posting needs that cookie, JSON, and the per-session token in ``X-CSRF-Token`` (an HMAC of
the cookie id with this server's secret). Bodies are capped (``MAX_BODY``) and each cookie
has a rate limit. Every answer carries a strict Content-Security-Policy. A refusal is a 4xx
with ``{"error": "short reason"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiolimiter import AsyncLimiter

from bot import languages, pictures
from bot.engine import Engine
from bot.errors import HipbotError
from bot.features import Features
from bot.storage.sql import SqlStorage
from bot.web.chat import MAX_BUTTON, MAX_TEXT, PICTURES_URL, Turn, WebChat, web_chat_id
from bot.web.clinic import MAX_FORM as CLINIC_MAX_FORM
from bot.web.clinic import ClinicSettings, Dashboard

log = logging.getLogger("hipbot.web")
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "hipbot_web"
CSRF_HEADER = "X-CSRF-Token"
MAX_BODY = 4096  # bytes of a posted body
PERSON_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Of the feature jobs, the web chat runs the ones about its own use of the database: its
# heartbeat (restore and key rotation refuse while it runs) and the retention purge. Sending
# (reminders, clinic messages) stays with `hipbot run`: the web chat has no outbox sender.
WEB_JOBS = frozenset({"heartbeat", "purge_job"})
JOB_INTERVAL = 5.0  # seconds between runs of those jobs
SERVES = ("both", "chat", "clinic")  # what one `hipbot web` process serves


@dataclass(frozen=True)
class WebSettings:
    """Limits of the web chat; tests make them small."""

    rate: float = 60  # actions per cookie (a burst of this many, then this many a period) ...
    period: float = 60  # ... in this many seconds
    max_body: int = MAX_BODY
    people_tracked: int = 10_000  # rate limiters kept (least recently used forgotten)
    serves: str = "both"  # "both", "chat" (no /clinic) or "clinic" (only /clinic): SERVES


class Refused(HipbotError):
    """A 4xx with a short JSON reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.json_response({"error": self.reason}, status=self.status)


class WebApp:
    """The shared engine, features and storage, and per-cookie limits."""

    def __init__(
        self,
        engine: Engine,
        storage: SqlStorage,
        features: Features,
        clock: Callable[[], float] = time.time,
        settings: WebSettings | None = None,
        secret: bytes | None = None,
        clinic: ClinicSettings | None = None,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.features = features
        self.clock = clock
        self.settings = settings or WebSettings()
        self.secret = secret or secrets.token_bytes(32)
        self._limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._locks: dict[int, asyncio.Lock] = {}
        self._picture_refs: dict[str, str] | None = None
        self.dashboard = Dashboard(
            storage, features, frozenset(engine.questions), clock, clinic or ClinicSettings()
        )

    # ------------------------------------------------------------ identity

    def token(self, person: str) -> str:
        return hmac.new(self.secret, person.encode(), hashlib.sha256).hexdigest()

    def chat(self, person: str, accept_language: str | None = None) -> WebChat:
        """A person's chat; ``accept_language`` (the browser's) picks a new person's language."""
        chat_id = web_chat_id(person)
        language = languages.from_accept_language(accept_language)
        return WebChat(self.engine, self.storage, self.features, chat_id, self.clock, language)

    def _limiter(self, person: str) -> AsyncLimiter:
        limiter = self._limiters.pop(person, None) or AsyncLimiter(
            self.settings.rate, self.settings.period
        )
        self._limiters[person] = limiter
        while len(self._limiters) > self.settings.people_tracked:
            self._limiters.popitem(last=False)
        return limiter

    async def _take_turn_slot(self, person: str) -> None:
        """Count one action against the person's rate limit; 429 when it is used up."""
        limiter = self._limiter(person)
        if not limiter.has_capacity():
            raise Refused(429, "too many messages: wait a moment, then try again")
        await limiter.acquire()

    async def _run(
        self, person: str, work: Callable[[WebChat], Turn], accept_language: str | None = None
    ) -> Turn:
        """One turn at a time per person (the database lock holds across processes too)."""
        chat = self.chat(person, accept_language)
        lock = self._locks.setdefault(chat.chat_id, asyncio.Lock())
        try:
            async with lock:
                return await asyncio.to_thread(work, chat)
        finally:
            if not lock.locked() and self._locks.get(chat.chat_id) is lock:
                del self._locks[chat.chat_id]

    # ------------------------------------------------------------ handlers

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The chat page; gives a new person their cookie."""
        response = web.FileResponse(STATIC / "index.html")
        response.headers["Cache-Control"] = "no-store"
        if _person(request) is None:
            _set_cookie(request, response, _new_person())
        return response

    async def picture(self, request: web.Request) -> web.StreamResponse:
        """A picture a flow step shows (only those: no other file can be asked for)."""
        ref = self._pictures().get(request.match_info["name"])
        if ref is None:
            raise web.HTTPNotFound()
        picture = await asyncio.to_thread(pictures.load, ref)
        headers = {"Cache-Control": "public, max-age=3600"}
        return web.Response(body=picture.content, content_type=picture.mime, headers=headers)

    def _pictures(self) -> dict[str, str]:
        """Public file name -> reference, for every picture a step of the flows shows."""
        if self._picture_refs is None:
            flows = self.engine.bundle.flows.values()
            refs = {step.image for flow in flows for step in flow.steps.values() if step.image}
            refs = {ref for ref in refs if not pictures.is_personal(ref)}  # sent in the turn
            self._picture_refs = {pictures.public_name(ref): ref for ref in refs}
        return self._picture_refs

    async def history(self, request: web.Request) -> web.StreamResponse:
        """Where the person left off, and the token their posts must carry."""
        person = _person(request)
        fresh = person is None
        if person is None:
            person = _new_person()
        if not fresh:
            await self._take_turn_slot(person)
        turn = Turn() if fresh else await self._run(person, lambda chat: chat.history())
        response = web.json_response({"token": self.token(person), **turn.as_json()})
        if fresh:
            _set_cookie(request, response, person)
        return response

    async def send(self, request: web.Request) -> web.StreamResponse:
        """One action: typed text or a pressed button."""
        person = self._checked(request)
        await self._take_turn_slot(person)
        body = await _json_body(request, self.settings.max_body)
        text, button = body.get("text"), body.get("button")
        accept = request.headers.get("Accept-Language")
        if isinstance(text, str) and button is None:
            if not text.strip():
                raise Refused(400, "text is empty")
            if len(text) > MAX_TEXT:
                raise Refused(400, f"text is over {MAX_TEXT} characters")
            turn = await self._run(person, lambda chat: chat.send(text), accept)
        elif isinstance(button, str) and text is None:
            if not button or len(button.encode()) > MAX_BUTTON:
                raise Refused(400, f"button must be 1 to {MAX_BUTTON} bytes")
            turn = await self._run(person, lambda chat: chat.press(button), accept)
        else:
            raise Refused(400, 'send {"text": "..."} or {"button": "..."}')
        return web.json_response(turn.as_json())

    def _checked(self, request: web.Request) -> str:
        """The posting person, after the cookie, origin, CSRF token and content type checks."""
        person = _person(request)
        if person is None:
            raise Refused(403, "no chat cookie: open the chat page first")
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            raise Refused(403, "posted from another site")
        given = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.token(person).encode()):
            raise Refused(403, "missing or wrong CSRF token: reload the page")
        if request.content_type != "application/json":
            raise Refused(415, "send JSON (Content-Type: application/json)")
        return person

    # ------------------------------------------------------------ jobs

    def run_jobs(self) -> None:
        """The web chat's share of the feature jobs (``WEB_JOBS``); a failure is logged."""
        for job in self.features.jobs:
            if getattr(job, "__name__", "") not in WEB_JOBS:
                continue
            try:
                job(self.storage, self.clock())
            except Exception:
                log.exception("a job failed", extra={"event": "job_error"})

    async def _jobs(self, app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(JOB_INTERVAL)
                await asyncio.to_thread(self.run_jobs)

        await asyncio.to_thread(self.run_jobs)  # in use from the start
        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    # ------------------------------------------------------------ the app

    def build(self) -> web.Application:
        app = web.Application(
            middlewares=[_security_headers],
            client_max_size=max(self.settings.max_body, CLINIC_MAX_FORM),
        )
        serves = self.settings.serves
        if serves not in SERVES:
            raise ValueError(f"serves is {serves!r}: it must be one of {', '.join(SERVES)}")
        app.cleanup_ctx.append(self._jobs)
        if serves != "clinic":  # the web chat
            app.router.add_get("/", self.page)
            app.router.add_get("/api/history", self.history)
            app.router.add_post("/api/send", self.send)
            app.router.add_get(PICTURES_URL + "/{name}", self.picture)
        app.router.add_get("/favicon.ico", _no_icon)
        app.router.add_static("/static", STATIC, append_version=False)  # both use its files
        if serves != "chat":
            self.dashboard.routes(app)  # /clinic: the clinic dashboard (bot.web.clinic)
        return app


async def _no_icon(request: web.Request) -> web.StreamResponse:
    """Browsers ask for it; there is none (204, not a 404 in the console)."""
    return web.Response(status=204)


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except Refused as refused:
        response = refused.response()
    except web.HTTPException as error:
        if not request.path.startswith("/api/"):
            error.headers.update(HEADERS)
            raise
        response = Refused(error.status, error.reason or "refused").response()
    response.headers.update(HEADERS)
    if request.path.startswith("/clinic"):  # forms post their Origin (checked) only with this
        response.headers["Referrer-Policy"] = "same-origin"
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


async def _json_body(request: web.Request, limit: int) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"body over {limit} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, f"body over {limit} bytes") from None
    if len(raw) > limit:  # the app's own cap is the clinic dashboard's, larger
        raise Refused(413, f"body over {limit} bytes")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused(400, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "body must be a JSON object")
    return body


def _new_person() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]


def _person(request: web.Request) -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if PERSON_ID.match(value) else None


def _set_cookie(request: web.Request, response: web.StreamResponse, person: str) -> None:
    secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
    response.set_cookie(
        COOKIE,
        person,
        max_age=400 * 24 * 3600,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )


def serve(app: WebApp, host: str, port: int) -> None:
    """Run until interrupted."""
    path = "clinic" if app.settings.serves == "clinic" else ""
    print(f"hipbot web: open http://{host}:{port}/{path} (Ctrl-C to stop)", flush=True)
    web.run_app(app.build(), host=host, port=port, print=None, access_log=None)
