"""The clinic dashboard under ``/clinic``: server-rendered pages over
``bot.features.clinics.dashboard`` (the handlers stay thin: check, call the service, render).

Every page and action: the session cookie (HttpOnly, Secure unless the dev flag, SameSite=
Strict) -> the staff member and their role, read again from the database; the clinic id in
the address must be theirs, and admin pages need the admin role, else 404 (nothing says the
page exists). Every POST carries the session's CSRF token and a same-site Origin, and its
body is capped (``MAX_FORM``). Sign-in attempts are limited per address (``LOGIN_TRIES``).
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import pictures
from bot.features import Features
from bot.features.clinics import broadcast as bc
from bot.features.clinics import dashboard as dash
from bot.features.clinics.chat import audiences_in, message_problem
from bot.features.clinics.rules import (
    EVERYONE,
    ROLES,
    Audience,
    check_patient_ref,
    deep_link,
    patient_message,
    shown,
)
from bot.features.clinics.store import ClinicStore
from bot.languages import NATIVE_NAMES
from bot.storage.sql import SqlStorage
from bot.web.markup import Node, markup_tree

COOKIE = "hipbot_clinic"
MAX_FORM = 48 * 1024  # bytes of a posted form (a broadcast: up to 3 texts of 4096 characters)
LOGIN_TRIES = 10  # sign-in attempts per address ...
LOGIN_PERIOD = 600.0  # ... per this many seconds
ADDRESSES_TRACKED = 10_000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class ClinicSettings:
    secure_cookies: bool = True  # False only for a dev server on http://127.0.0.1
    public_url: str = ""  # where staff open the dashboard (for the link in the code message)
    time_zone: str = "UTC"  # a clinic's time zone until an admin sets it (Settings page)


class Dashboard:
    """The dashboard's routes, on the web chat's storage and features."""

    def __init__(
        self,
        storage: SqlStorage,
        features: Features,
        questions: frozenset[str],
        clock: Callable[[], float] = time.time,
        settings: ClinicSettings | None = None,
    ) -> None:
        self.storage = storage
        self.db = storage.db
        self.features = features
        self.questions = questions
        self.clock = clock
        self.settings = settings or ClinicSettings()
        self._tries: OrderedDict[str, deque[float]] = OrderedDict()
        self._audiences: dict[str, Audience] | None = None

    def routes(self, app: web.Application) -> None:
        get, post = app.router.add_get, app.router.add_post
        get("/clinic", self.home)
        get("/clinic/", self.home)
        get("/clinic/login", self.login_page)
        post("/clinic/login", self.login)
        post("/clinic/logout", self.logout)
        post("/clinic/logout-everywhere", self.logout_everywhere)
        get("/clinic/{cid}/", self.overview)
        get("/clinic/{cid}/alerts", self.alerts)
        post("/clinic/{cid}/alerts/{aid}/ack", self.acknowledge)
        get("/clinic/{cid}/patients", self.patients)
        get("/clinic/{cid}/patients/{ref}/chart.png", self.chart)
        get("/clinic/{cid}/export.csv", self.export)
        get("/clinic/{cid}/broadcasts", self.broadcasts)
        post("/clinic/{cid}/broadcasts", self.compose)
        get("/clinic/{cid}/audience", self.audience_count)
        get("/clinic/{cid}/broadcasts/{bid}", self.broadcast_page)
        get("/clinic/{cid}/broadcasts/{bid}/progress", self.progress)
        post("/clinic/{cid}/broadcasts/{bid}/cancel", self.cancel)
        get("/clinic/{cid}/links", self.links)
        post("/clinic/{cid}/links", self.add_link)
        get("/clinic/{cid}/qr.svg", self.qr)
        get("/clinic/{cid}/audit", self.audit_page)
        get("/clinic/{cid}/staff", self.staff_page)
        post("/clinic/{cid}/staff", self.change_staff)
        get("/clinic/{cid}/settings", self.settings_page)
        post("/clinic/{cid}/settings", self.change_settings)

    # ------------------------------------------------------------ who is asking

    def _staff(self, request: web.Request) -> dash.WebStaff | None:
        return dash.session_of(self.db, request.cookies.get(COOKIE, ""), self.clock())

    def _authed(self, request: web.Request, admin: bool = False) -> dash.WebStaff:
        """The signed-in staff member of the clinic in the address, or 404 (signed out: the
        sign-in page)."""
        staff = self._staff(request)
        if staff is None:
            raise web.HTTPSeeOther("/clinic/login")
        cid = request.match_info.get("cid", "")
        if not cid.isdigit() or int(cid) != staff.clinic_id or (admin and not staff.admin):
            raise web.HTTPNotFound()
        return staff

    async def _form(self, request: web.Request, staff: dash.WebStaff | None) -> Mapping[str, str]:
        """The posted form, after the size, origin and (signed in) CSRF checks."""
        if request.content_length is None or request.content_length > MAX_FORM:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM, actual_size=0)
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            raise web.HTTPForbidden(text="posted from another site")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM, actual_size=0) from None
        if len(raw) > MAX_FORM:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM, actual_size=len(raw))
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if staff is not None and not dash.csrf_ok(staff, form.get("csrf", "")):
            raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the page")
        return form

    def _limited(self, address: str) -> bool:
        now = self.clock()
        tries = self._tries.pop(address, None) or deque()
        while tries and tries[0] <= now - LOGIN_PERIOD:
            tries.popleft()
        self._tries[address] = tries
        while len(self._tries) > ADDRESSES_TRACKED:
            self._tries.popitem(last=False)
        if len(tries) >= LOGIN_TRIES:
            return True
        tries.append(now)
        return False

    def _page(
        self, staff: dash.WebStaff | None, title: str, body: str, status: int = 200
    ) -> web.Response:
        return web.Response(
            text=layout(staff, self._clinic_name(staff), title, body, self._open_alerts(staff)),
            content_type="text/html",
            status=status,
            headers={"Cache-Control": "no-store"},
        )

    def _clinic_name(self, staff: dash.WebStaff | None) -> str:
        clinic = ClinicStore(self.db).clinic(staff.clinic_id) if staff else None
        return clinic.name if clinic else ""

    def _open_alerts(self, staff: dash.WebStaff | None) -> int:
        return dash.open_alerts(self.db, staff.clinic_id) if staff else 0

    def _audience_map(self) -> dict[str, Audience]:
        if self._audiences is None:
            self._audiences = audiences_in(self.features.loaded.paths, self.questions)
            self._audiences.setdefault("all", EVERYONE)
        return self._audiences

    # ------------------------------------------------------------ signing in and out

    async def home(self, request: web.Request) -> web.StreamResponse:
        staff = self._staff(request)
        raise web.HTTPSeeOther(f"/clinic/{staff.clinic_id}/" if staff else "/clinic/login")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        code = dash.normal_code(request.query.get("code", ""))
        return self._page(None, "Sign in", login_body(code, ""))

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request, None)
        if self._limited(request.remote or "?"):
            body = login_body("", "Too many tries from here. Wait 10 minutes, then try again.")
            return self._page(None, "Sign in", body, status=429)
        found = await asyncio.to_thread(
            dash.redeem_code, self.db, form.get("code", ""), self.clock()
        )
        if found is None:
            body = login_body("", "That code is wrong, used or out of date. Ask for a new one.")
            return self._page(None, "Sign in", body, status=403)
        clinic_id, user_id = found
        now = self.clock()
        token = dash.open_session(self.db, clinic_id, user_id, now)
        with self.db.transaction():
            dash.audit(self.db, clinic_id, user_id, "sign-in", now)
        response = web.HTTPSeeOther(f"/clinic/{clinic_id}/")
        response.set_cookie(
            COOKIE, token, max_age=int(dash.SESSION_TTL), path="/clinic", httponly=True,
            samesite="Strict", secure=self.settings.secure_cookies,
        )  # fmt: skip
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        staff = self._staff(request)
        if staff is not None:
            await self._form(request, staff)
            dash.close_session(self.db, staff)
            with self.db.transaction():
                dash.audit(self.db, staff.clinic_id, staff.user_id, "sign-out", self.clock())
        response = web.HTTPSeeOther("/clinic/login")
        response.del_cookie(COOKIE, path="/clinic")
        raise response

    async def logout_everywhere(self, request: web.Request) -> web.StreamResponse:
        staff = self._staff(request)
        if staff is None:
            raise web.HTTPSeeOther("/clinic/login")
        await self._form(request, staff)
        count = dash.close_everywhere(self.db, staff.user_id)
        with self.db.transaction():
            dash.audit(
                self.db, staff.clinic_id, staff.user_id, "sign-out-everywhere", self.clock(),
                f"{count} sessions",
            )  # fmt: skip
        response = web.HTTPSeeOther("/clinic/login")
        response.del_cookie(COOKIE, path="/clinic")
        raise response

    # ------------------------------------------------------------ pages

    async def overview(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        found = await asyncio.to_thread(dash.overview, self.db, staff.clinic_id, self.clock())
        return self._page(staff, "Overview", overview_body(found))

    async def alerts(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        found = dash.alerts(self.db, staff.clinic_id)
        return self._page(staff, "Red-flag alerts", alerts_body(staff, found))

    async def acknowledge(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request, admin=True)
        await self._form(request, staff)
        aid = request.match_info["aid"]
        if not aid.isdigit() or not dash.has_alert(self.db, staff.clinic_id, int(aid)):
            raise web.HTTPNotFound()
        dash.acknowledge(self.db, staff.clinic_id, int(aid), staff.user_id, self.clock())
        raise web.HTTPSeeOther(f"/clinic/{staff.clinic_id}/alerts")

    async def patients(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        found, others = await asyncio.to_thread(dash.shared_patients, self.db, staff.clinic_id)
        return self._page(staff, "Patients", patients_body(staff, found, others))

    async def chart(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        user = dash.sharing_user(self.db, staff.clinic_id, request.match_info["ref"])
        if user is None:
            raise web.HTTPNotFound()
        try:
            picture = await asyncio.to_thread(pictures.load_for, "progress", self.storage, user)
        except KeyError:
            raise web.HTTPNotFound() from None
        return web.Response(
            body=picture.content, content_type=picture.mime, headers={"Cache-Control": "no-store"}
        )

    async def export(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request, admin=True)
        found, _ = dash.shared_patients(self.db, staff.clinic_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["patient_ref", "last_checkin_utc", "reminders_on", "followup_start"])
        for p in found:
            writer.writerow(
                [p.ref, dash.when(p.last_checkin), p.reminders_on, p.followup_start or ""]
            )
        with self.db.transaction():
            dash.audit(
                self.db, staff.clinic_id, staff.user_id, "export", self.clock(), "patients.csv"
            )
        return web.Response(
            text=out.getvalue(),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="patients.csv"'},
        )

    # ------------------------------------------------------------ broadcasts

    async def broadcasts(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        return self._page(staff, "Broadcasts", self._broadcasts_body(staff, {}, "", ""))

    def _broadcasts_body(
        self, staff: dash.WebStaff, form: Mapping[str, str], problem: str, preview: str
    ) -> str:
        recent = ClinicStore(self.db).recent(staff.clinic_id, 20)
        languages = self._languages(staff)
        return broadcasts_body(
            staff, self._audience_map(), form, problem, preview, recent, languages,
            self._zone(staff),
        )  # fmt: skip

    def _zone(self, staff: dash.WebStaff) -> str:
        return dash.clinic_zone(self.db, staff.clinic_id, self.settings.time_zone)

    def _languages(self, staff: dash.WebStaff) -> list[str]:
        """The languages the compose form asks for: those the clinic's patients use."""
        people = bc.recipients(self.storage, staff.clinic_id, EVERYONE, self.clock())
        return dash.compose_languages(Counter(p.language for p in people))

    def _reach(
        self, staff: dash.WebStaff, audience: Audience, texts: Mapping[str, str]
    ) -> tuple[int, Counter[str]]:
        """How many patients the broadcast would reach, and how many it skips per language."""
        text = dash.stored_text(texts, self._languages(staff))
        people = bc.recipients(self.storage, staff.clinic_id, audience, self.clock())
        kept, left_out = bc.split_by_language(people, text)
        return len(kept), left_out

    async def audience_count(self, request: web.Request) -> web.StreamResponse:
        """``?name=<audience>&languages=en,es``: recipients, and those skipped for language
        (``languages``: those with a text written so far; absent: all of them)."""
        staff = self._authed(request)
        audience = self._audience_map().get(request.query.get("name", "all"))
        if audience is None:
            raise web.HTTPNotFound()
        asked = request.query.get("languages")
        written = self._languages(staff) if asked is None else asked.split(",")
        texts = {code: "-" for code in written if code}
        count, left_out = await asyncio.to_thread(self._reach, staff, audience, texts)
        skipped = sum(left_out.values())
        found = {"count": shown(count), "skipped": shown(skipped), "skips": skipped > 0}
        return web.json_response(found)

    async def compose(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        form = await self._form(request, staff)
        store = ClinicStore(self.db)
        languages = self._languages(staff)
        texts = dash.composed_texts(form, languages)
        text = dash.stored_text(texts, languages)
        audience = self._audience_map().get(form.get("audience", "all"))
        problem = "" if audience else f"no audience {form.get('audience')!r}"
        problem = problem or _texts_problem(store, staff.clinic_id, texts, languages)
        at = None
        if not problem and form.get("when") == "at":
            try:
                at = bc.parse_local_time(form.get("at", ""))
            except ValueError as error:
                problem = str(error)
        if problem or form.get("action") != "send" or audience is None:
            preview = "" if problem else self._preview(staff, texts, audience or EVERYONE)
            body = self._broadcasts_body(staff, form, problem, preview)
            return self._page(staff, "Broadcasts", body, status=400 if problem else 200)
        now = self.clock()
        draft = store.create_draft(staff.clinic_id, staff.user_id, now)
        store.update_draft(
            staff.clinic_id, draft, text=text, audience=audience.id,
            at_time=str(at) if at else None,
        )  # fmt: skip
        zone = self._zone(staff)
        count = await asyncio.to_thread(
            bc.queue, self.storage, staff.clinic_id, draft, audience, at, now, staff.user_id,
            text, zone,
        )  # fmt: skip
        with self.db.transaction():
            dash.audit(
                self.db, staff.clinic_id, staff.user_id, "broadcast-sent", now,
                f"broadcast {draft} to {shown(count or 0)} ({audience.id}, "
                f"{f'{at} {zone}' if at else 'now'})",
            )  # fmt: skip
        raise web.HTTPSeeOther(f"/clinic/{staff.clinic_id}/broadcasts/{draft}")

    def _preview(self, staff: dash.WebStaff, texts: Mapping[str, str], audience: Audience) -> str:
        name, several = self._clinic_name(staff), len(self._languages(staff)) > 1
        bubbles = []
        for language, text in texts.items():
            shown_as = patient_message(name, text, bc.stop_data(staff.clinic_id), language)
            buttons = "".join(
                f'<span class="button">{h(b.label)}</span>' for row in shown_as.buttons for b in row
            )
            label = f'<h3 lang="en">{h(NATIVE_NAMES[language])}</h3>' if several else ""
            bubbles.append(
                f'{label}<div class="bubble" lang="{h(language)}">'
                f"{render_markup(markup_tree(shown_as.text))}<div>{buttons}</div></div>"
            )
        count, left_out = self._reach(staff, audience, texts)
        skipped = ""
        if left_out:
            each = ", ".join(
                f"{NATIVE_NAMES.get(code, code)}: {shown(n)}"
                for code, n in sorted(left_out.items())
            )
            skipped = (
                f" {h(shown(sum(left_out.values())))} are skipped: no text in their language "
                f"({h(each)})."
            )
        return (
            f'<section aria-labelledby="preview"><h2 id="preview">Preview</h2>{"".join(bubbles)}'
            f'<p id="reach">It would go to {h(shown(count))} patients.{skipped}</p></section>'
        )

    def _broadcast_of(self, request: web.Request, staff: dash.WebStaff) -> int:
        bid = request.match_info["bid"]
        if not bid.isdigit() or ClinicStore(self.db).broadcast(staff.clinic_id, int(bid)) is None:
            raise web.HTTPNotFound()
        return int(bid)

    async def broadcast_page(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        bid = self._broadcast_of(request, staff)
        broadcast = ClinicStore(self.db).broadcast(staff.clinic_id, bid)
        found = dash.progress(self.db, staff.clinic_id, bid, self.clock())
        if broadcast is None or found is None:
            raise web.HTTPNotFound()
        body = broadcast_body(staff, broadcast, found)
        return self._page(staff, f"Broadcast #{bid}", body)

    async def progress(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        bid = self._broadcast_of(request, staff)
        found = dash.progress(self.db, staff.clinic_id, bid, self.clock())
        if found is None:
            raise web.HTTPNotFound()
        return web.json_response(found.as_json(), headers={"Cache-Control": "no-store"})

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        await self._form(request, staff)
        bid = self._broadcast_of(request, staff)
        store = ClinicStore(self.db)
        broadcast = store.broadcast(staff.clinic_id, bid)
        if broadcast is None or (not staff.admin and broadcast.author != staff.user_id):
            raise web.HTTPNotFound()
        now = self.clock()
        if store.cancel(staff.clinic_id, bid, now):
            with self.db.transaction():
                dash.audit(
                    self.db, staff.clinic_id, staff.user_id, "broadcast-cancelled", now,
                    f"broadcast {bid}",
                )  # fmt: skip
        raise web.HTTPSeeOther(f"/clinic/{staff.clinic_id}/broadcasts/{bid}")

    # ------------------------------------------------------------ links

    async def links(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        return self._page(staff, "Links", self._links_body(staff, ""))

    def _links_body(self, staff: dash.WebStaff, note: str) -> str:
        clinic = ClinicStore(self.db).clinic(staff.clinic_id)
        username = self.features.loaded.settings.bot_username
        join = deep_link(username, clinic.code) if clinic and username else ""
        invites = self.db.all(
            "SELECT patient_ref, code, used_by IS NOT NULL FROM clinic_invites"
            " WHERE clinic_id = ? ORDER BY created_at DESC LIMIT 100",
            (staff.clinic_id,),
        )
        rows = [
            (r[0], deep_link(username, r[1]) if username else r[1], bool(r[2])) for r in invites
        ]
        return links_body(staff, clinic.code if clinic else "", join, rows, self._sequences(), note)

    def _sequences(self) -> list[str]:
        """Each follow-up sequence the bot runs: its id and the days of its messages."""
        from bot.features.reminders.chat import followups_of

        try:
            found = followups_of(self.features.loaded)
        except Exception:  # a broken flows folder is `hipbot validate`'s to report
            return []
        return [
            f"{s.id}: days {', '.join(str(m.day) for m in s.ordered())}" for s in found.values()
        ]

    async def add_link(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request)
        form = await self._form(request, staff)
        try:
            ref = check_patient_ref(form.get("ref", ""))
        except ValueError as error:
            return self._page(staff, "Links", self._links_body(staff, str(error)), status=400)
        ClinicStore(self.db).add_invite(staff.clinic_id, ref, self.clock())
        raise web.HTTPSeeOther(f"/clinic/{staff.clinic_id}/links")

    async def qr(self, request: web.Request) -> web.StreamResponse:
        import segno

        staff = self._authed(request)
        clinic = ClinicStore(self.db).clinic(staff.clinic_id)
        username = self.features.loaded.settings.bot_username
        if clinic is None or not username:
            raise web.HTTPNotFound()
        out = io.BytesIO()
        segno.make(deep_link(username, clinic.code), error="m").save(
            out, kind="svg", scale=6, border=4, title=f"Join link of {clinic.name}"
        )
        return web.Response(body=out.getvalue(), content_type="image/svg+xml")

    # ------------------------------------------------------------ admin

    async def audit_page(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request, admin=True)
        return self._page(staff, "Audit log", audit_body(dash.audit_log(self.db, staff.clinic_id)))

    async def staff_page(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request, admin=True)
        members = ClinicStore(self.db).staff(staff.clinic_id)
        return self._page(staff, "Staff", staff_body(staff, members, ""))

    async def change_staff(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request, admin=True)
        form = await self._form(request, staff)
        store = ClinicStore(self.db)
        user, role, now = form.get("user_id", "").strip(), form.get("role", ""), self.clock()
        try:
            if role == "remove":
                if user == staff.user_id:
                    raise ValueError("you cannot take yourself off the staff here")
                if not store.remove_staff(staff.clinic_id, user):
                    raise ValueError(f"{user!r} is not staff of this clinic")
            else:
                store.add_staff(staff.clinic_id, user, role, now)
        except ValueError as error:
            body = staff_body(staff, store.staff(staff.clinic_id), str(error))
            return self._page(staff, "Staff", body, status=400)
        with self.db.transaction():
            dash.audit(
                self.db, staff.clinic_id, staff.user_id, "staff-changed", now, f"{user}: {role}"
            )
        raise web.HTTPSeeOther(f"/clinic/{staff.clinic_id}/staff")

    async def settings_page(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request, admin=True)
        return self._page(staff, "Settings", settings_body(staff, self._zone(staff), "", ""))

    async def change_settings(self, request: web.Request) -> web.StreamResponse:
        staff = self._authed(request, admin=True)
        form = await self._form(request, staff)
        try:
            zone = dash.check_zone(form.get("time_zone", ""))
        except ValueError as error:
            given = form.get("time_zone", "")
            body = settings_body(staff, self._zone(staff), given, str(error))
            return self._page(staff, "Settings", body, status=400)
        before, now = self._zone(staff), self.clock()
        dash.set_clinic_zone(self.db, staff.clinic_id, zone, now)
        with self.db.transaction():
            dash.audit(
                self.db, staff.clinic_id, staff.user_id, "time-zone-changed", now,
                f"{before} -> {zone}",
            )  # fmt: skip
        raise web.HTTPSeeOther(f"/clinic/{staff.clinic_id}/settings")


# ---------------------------------------------------------------- rendering


def h(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_markup(nodes: list[Node]) -> str:
    """The bot's markup tree (only its safe tags) as HTML."""
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(h(node).replace("\n", "<br>"))
            continue
        tag, inner = node["tag"], render_markup(node["children"])
        if tag == "a":
            href = node.get("href")
            out.append(
                f'<a href="{h(href)}" rel="noopener noreferrer">{inner}</a>' if href else inner
            )
        else:
            out.append(f"<{tag}>{inner}</{tag}>")
    return "".join(out)


def _texts_problem(
    store: ClinicStore, clinic_id: int, texts: Mapping[str, str], languages: list[str]
) -> str:
    """What is wrong with the written texts (English is needed), or ""."""
    if "en" not in texts:
        return "write the message in English (it is always needed)"
    for language, text in texts.items():
        problem = html.unescape(message_problem(store, clinic_id, text))
        if problem:
            return f"{NATIVE_NAMES[language]}: {problem}" if len(languages) > 1 else problem
    return ""


def _csrf(staff: dash.WebStaff) -> str:
    return f'<input type="hidden" name="csrf" value="{h(staff.csrf)}">'


def layout(
    staff: dash.WebStaff | None, clinic: str, title: str, body: str, open_alerts: int
) -> str:
    nav = ""
    if staff is not None:
        base = f"/clinic/{staff.clinic_id}"
        items = [
            ("Overview", f"{base}/"),
            (f"Alerts ({open_alerts})" if open_alerts else "Alerts", f"{base}/alerts"),
            ("Patients", f"{base}/patients"),
            ("Broadcasts", f"{base}/broadcasts"),
            ("Links", f"{base}/links"),
        ]
        if staff.admin:
            items += [("Staff", f"{base}/staff"), ("Audit log", f"{base}/audit")]
            items += [("Settings", f"{base}/settings")]
        links = "".join(f'<li><a href="{h(u)}">{h(t)}</a></li>' for t, u in items)
        nav = (
            f'<nav aria-label="Dashboard"><ul>{links}</ul>'
            f'<form method="post" action="/clinic/logout">{_csrf(staff)}'
            '<button type="submit">Sign out</button></form>'
            f'<form method="post" action="/clinic/logout-everywhere">{_csrf(staff)}'
            '<button type="submit" class="quiet">Sign out everywhere</button></form></nav>'
        )
    count = f"({open_alerts}) " if open_alerts else ""
    who = f"{h(clinic)} · {h(staff.role)}" if staff else "Clinic dashboard"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{count}{h(title)} · {h(clinic or 'hipbot clinic')}</title>"
        '<link rel="stylesheet" href="/static/clinic.css">'
        '<script src="/static/clinic.js" defer></script></head><body>'
        f'<header><p class="who">{who}</p>{nav}</header>'
        f'<main id="main"><h1>{h(title)}</h1>{body}</main></body></html>'
    )


def login_body(code: str, problem: str) -> str:
    error = f'<p class="error" role="alert">{h(problem)}</p>' if problem else ""
    return (
        f"{error}<p>Send <code>/login</code> to the bot on Telegram. It sends you a code that "
        "works once, for 10 minutes.</p>"
        '<form method="post" action="/clinic/login">'
        '<label for="code">Sign-in code</label>'
        f'<input id="code" name="code" autocomplete="one-time-code" required value="{h(code)}">'
        '<button type="submit">Sign in</button></form>'
    )


def overview_body(found: dash.Overview) -> str:
    shown_counts = found.shown()
    cards = "".join(
        f'<div class="card"><span class="n">{h(shown_counts[key])}</span> {h(label)}</div>'
        for key, label in (
            ("linked", "patients linked"),
            ("active_7", "active in the last 7 days"),
            ("active_30", "active in the last 30 days"),
            ("reminders_on", "with reminders on"),
        )
    )
    top = max(1, found.funnel[0][1]) if found.funnel else 1
    steps = "".join(
        f"<tr><th scope=row>{h(label)}</th><td>{h(shown(n))}</td>"
        f'<td><meter min="0" max="{top}" value="{n if n >= 5 else 0}" '
        f'aria-label="{h(label)}"></meter></td></tr>'
        for label, n in found.funnel
    )
    return (
        f'<div class="cards">{cards}</div><h2>How far patients get</h2>'
        f"<table><thead><tr><th scope=col>Step</th><th scope=col>Patients</th>"
        f"<th scope=col>Share</th></tr></thead><tbody>{steps}</tbody></table>"
        '<p class="note">Counts under 5 show as "&lt;5", so no one can be singled out.</p>'
    )


def alerts_body(staff: dash.WebStaff, found: list[dash.Alert]) -> str:
    if not found:
        return "<p>No red-flag alerts.</p>"
    rows = []
    for alert in found:
        level = "Urgent" if alert.urgent else "See a doctor soon"
        if alert.acked_at is not None:
            done = f"Acknowledged by {h(alert.acked_by)} at {h(dash.when(alert.acked_at))} UTC"
        elif staff.admin:
            done = (
                f'<form method="post" action="/clinic/{staff.clinic_id}/alerts/{alert.id}/ack">'
                f'{_csrf(staff)}<button type="submit">Acknowledge {h(alert.patient_ref)}</button></form>'
            )
        else:
            done = "Not acknowledged yet"
        rows.append(
            f'<tr class="{"urgent" if alert.urgent else "soon"}">'
            f'<td data-label="Patient REF">{h(alert.patient_ref)}</td>'
            f'<td data-label="Level">{level}</td>'
            f'<td data-label="Time">{h(dash.when(alert.at))} UTC</td>'
            f'<td data-label="Acknowledged">{done}</td></tr>'
        )
    return (
        '<table class="stack"><thead><tr><th scope=col>Patient REF</th><th scope=col>Level</th>'
        "<th scope=col>Time</th><th scope=col>Acknowledged</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def patients_body(staff: dash.WebStaff, found: list[dash.SharedPatient], others: int) -> str:
    parts = [
        f"<p>{h(shown(len(found)))} patients share their progress with you. "
        f"{h(shown(others))} linked patients do not (they show only as a count).</p>"
    ]
    if staff.admin:
        parts.append(f'<p><a href="/clinic/{staff.clinic_id}/export.csv">Export as CSV</a></p>')
    for p in found:
        chart = f"/clinic/{staff.clinic_id}/patients/{h(p.ref)}/chart.png"
        parts.append(
            f'<article class="patient"><h2>{h(p.ref)}</h2><dl>'
            f"<dt>Last check-in</dt><dd>{h(dash.when(p.last_checkin))}</dd>"
            f"<dt>Reminders</dt><dd>{'on' if p.reminders_on else 'off'}</dd>"
            f"<dt>Follow-up day</dt><dd>{h(p.followup_start or '-')}</dd></dl>"
            + (
                f'<img src="{chart}" alt="Pain and activity chart of {h(p.ref)}" loading="lazy">'
                if p.last_checkin
                else ""
            )
            + "</article>"
        )
    return "".join(parts)


def broadcasts_body(
    staff: dash.WebStaff,
    audiences: Mapping[str, Audience],
    form: Mapping[str, str],
    problem: str,
    preview: str,
    recent: list[Any],
    languages: list[str] | None = None,
    zone: str = "UTC",
) -> str:
    chosen = form.get("audience", "all")
    options = "".join(
        f'<option value="{h(a.id)}"{" selected" if a.id == chosen else ""}>{h(a.label)}</option>'
        for a in audiences.values()
    )
    at_chosen = form.get("when") == "at"
    error = f'<p class="error" role="alert">{h(problem)}</p>' if problem else ""
    rows = "".join(
        f'<tr><td><a href="/clinic/{staff.clinic_id}/broadcasts/{b.id}">#{b.id}</a></td>'
        f"<td>{h(b.state)}</td><td>{h(b.at_time or 'now')}</td>"
        f"<td>{h(dash.when(b.queued_at))}</td></tr>"
        for b in recent
    )
    table = (
        "<table><thead><tr><th scope=col>Broadcast</th><th scope=col>State</th>"
        "<th scope=col>Time</th><th scope=col>Queued (UTC)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else "<p>No broadcasts yet.</p>"
    )
    return (
        f'{error}<form method="post" action="/clinic/{staff.clinic_id}/broadcasts" class="compose">'
        f"{_csrf(staff)}"
        f"{_text_fields(form, languages or ['en'])}"
        f'<label for="audience">Who gets it</label>'
        f'<select id="audience" name="audience" data-count-url="/clinic/{staff.clinic_id}/audience">'
        f"{options}</select>"
        '<p>Recipients: <output id="audience-count" aria-live="polite">…</output>'
        '<span id="language-skips" hidden> (<output id="skipped-count">0</output> skipped: '
        "no text in their language)</span></p>"
        "<fieldset><legend>When</legend>"
        f'<label><input type="radio" name="when" value="now"{"" if at_chosen else " checked"}> Now</label>'
        f'<label><input type="radio" name="when" value="at"{" checked" if at_chosen else ""}> At</label>'
        f'<input name="at" aria-label="Time in {h(zone)}, like 09:30 or 2026-11-20 09:30" '
        f'placeholder="09:30" value="{h(form.get("at", ""))}"><span class="zone">{h(zone)}</span>'
        f'<p class="note">The time is the clinic\'s ({h(zone)}). A patient in their quiet hours '
        "then gets it when those end.</p></fieldset>"
        '<div class="actions"><button type="submit" name="action" value="preview">Preview</button>'
        '<button type="submit" name="action" value="send">Send</button></div></form>'
        f"{preview}<h2>Recent</h2>{table}"
    )


def _text_fields(form: Mapping[str, str], languages: list[str]) -> str:
    """One textarea per language in use (English always and required)."""
    hint = "Telegram HTML: &lt;b&gt;, &lt;i&gt;, &lt;a href&gt;"
    if len(languages) == 1:
        return (
            f'<label for="text">Message ({hint})</label>'
            '<textarea id="text" name="text" rows="6" maxlength="4096" required>'
            f"{h(form.get('text', ''))}</textarea>"
        )
    parts = [
        f'<p class="note">Your patients use {len(languages)} languages. Write the message in '
        f"each ({hint}). Patients whose language is left empty get nothing.</p>"
    ]
    for code in languages:
        field = dash.text_field(code)
        need = " (needed)" if code == "en" else ""
        parts.append(
            f'<label for="{field}">Message in {h(NATIVE_NAMES[code])}{need}</label>'
            f'<textarea id="{field}" name="{field}" rows="5" maxlength="4096" lang="{code}" '
            f'data-language="{code}"{" required" if code == "en" else ""}>'
            f"{h(form.get(field, ''))}</textarea>"
        )
    return "".join(parts)


def _bubbles(text: str) -> str:
    """A stored broadcast text as shown: one bubble, or one per language under its name."""
    texts = bc.texts_by_language(text)
    if texts is None:
        return f'<div class="bubble">{render_markup(markup_tree(text))}</div>'
    return "".join(
        f"<h3>{h(NATIVE_NAMES.get(code, code))}</h3>"
        f'<div class="bubble" lang="{h(code)}">{render_markup(markup_tree(said))}</div>'
        for code, said in texts.items()
    )


def broadcast_body(staff: dash.WebStaff, broadcast: Any, found: dash.Progress) -> str:
    data = found.as_json()
    counts = "".join(
        f'<div><dt>{label}</dt><dd data-count="{key}">{h(data[key])}</dd></div>'
        for key, label in (
            ("total", "Recipients"),
            ("sent", "Sent"),
            ("queued", "On the way"),
            ("waiting", "Waiting for quiet hours"),
            ("blocked", "Blocked the bot"),
            ("failed", "Failed"),
            ("skipped", "Skipped"),
            ("no_language", "Skipped: no text in their language"),
        )
    )
    cancel = ""
    if broadcast.state in ("queued", "sending") and (
        staff.admin or broadcast.author == staff.user_id
    ):
        cancel = (
            f'<form id="cancel" method="post" '
            f'action="/clinic/{staff.clinic_id}/broadcasts/{broadcast.id}/cancel">'
            f'{_csrf(staff)}<button type="submit" class="danger">Cancel this broadcast</button></form>'
        )
    url = f"/clinic/{staff.clinic_id}/broadcasts/{broadcast.id}/progress"
    return (
        f"{_bubbles(broadcast.text)}"
        f"<p>Time: {h(broadcast.at_time or 'now')}. State: "
        f'<strong id="state">{h(found.state)}</strong></p>'
        f'<progress id="bar" max="100" value="{found.percent}" data-url="{h(url)}" '
        f'aria-label="Progress">{found.percent}%</progress> <span id="percent">{found.percent}%</span>'
        f'<dl class="counts">{counts}</dl>{cancel}'
    )


def links_body(
    staff: dash.WebStaff,
    code: str,
    join: str,
    invites: list[tuple[str, str, bool]],
    sequences: list[str],
    note: str,
) -> str:
    error = f'<p class="error" role="alert">{h(note)}</p>' if note else ""
    if join:
        top = (
            f'<p>Join link: <a href="{h(join)}">{h(join)}</a></p>'
            f'<img class="qr" src="/clinic/{staff.clinic_id}/qr.svg" alt="QR code of the join link">'
        )
    else:
        top = f"<p>Join code: <code>{h(code)}</code> (set HIPBOT_BOT_USERNAME for the link and QR code)</p>"
    rows = "".join(
        f"<tr><td>{h(ref)}</td><td><code>{h(link)}</code></td><td>{'used' if used else 'not used'}</td></tr>"
        for ref, link, used in invites
    )
    seq = "".join(f"<li>{h(s)}</li>" for s in sequences) or "<li>None set up.</li>"
    return (
        f"{error}{top}<h2>Personal links</h2>"
        f'<form method="post" action="/clinic/{staff.clinic_id}/links">{_csrf(staff)}'
        '<label for="ref">Patient REF (your own code, never a name)</label>'
        '<input id="ref" name="ref" required maxlength="32" pattern="[A-Za-z0-9_\\-]{1,32}">'
        '<button type="submit">Make a personal link</button></form>'
        + (
            "<table><thead><tr><th scope=col>REF</th><th scope=col>Link</th>"
            f"<th scope=col>Used</th></tr></thead><tbody>{rows}</tbody></table>"
            if rows
            else ""
        )
        + f"<h2>Follow-up sequences</h2><ul>{seq}</ul>"
        '<h2>Try it</h2><p><a href="/" target="_blank" rel="noopener">Open the web chat</a>. '
        "People in the web chat are never linked to a clinic, so trying it never counts in "
        "your numbers.</p>"
    )


def audit_body(entries: list[dash.AuditEntry]) -> str:
    rows = "".join(
        f"<tr><td>{h(dash.when(e.at))}</td><td>{h(e.actor)}</td><td>{h(e.action)}</td>"
        f"<td>{h(e.detail)}</td></tr>"
        for e in entries
    )
    return (
        "<table><thead><tr><th scope=col>Time (UTC)</th><th scope=col>Who</th>"
        f"<th scope=col>What</th><th scope=col>Detail</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def staff_body(staff: dash.WebStaff, members: list[Any], problem: str) -> str:
    error = f'<p class="error" role="alert">{h(problem)}</p>' if problem else ""
    rows = "".join(f"<tr><td>{h(m.user_id)}</td><td>{h(m.role)}</td></tr>" for m in members)
    roles = "".join(f'<option value="{r}">{r}</option>' for r in (*ROLES, "remove"))
    return (
        f"{error}<table><thead><tr><th scope=col>Telegram user id</th><th scope=col>Role</th>"
        f"</tr></thead><tbody>{rows}</tbody></table><h2>Add, change or remove</h2>"
        f'<form method="post" action="/clinic/{staff.clinic_id}/staff">{_csrf(staff)}'
        '<label for="user_id">Telegram user id</label><input id="user_id" name="user_id" required '
        'inputmode="numeric"><label for="role">Role</label>'
        f'<select id="role" name="role">{roles}</select><button type="submit">Save</button></form>'
    )


def settings_body(staff: dash.WebStaff, zone: str, given: str, problem: str) -> str:
    error = f'<p class="error" role="alert">{h(problem)}</p>' if problem else ""
    return (
        f"{error}<p>Time zone: <strong>{h(zone)}</strong>. A broadcast sent "
        "&quot;at&quot; a time goes out at that time here.</p>"
        f'<form method="post" action="/clinic/{staff.clinic_id}/settings">{_csrf(staff)}'
        '<label for="time_zone">Clinic time zone (like Europe/Madrid)</label>'
        f'<input id="time_zone" name="time_zone" required value="{h(given or zone)}">'
        '<button type="submit">Save</button></form>'
    )
