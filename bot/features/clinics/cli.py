"""The clinics' subcommands: ``hipbot clinic ...``, ``hipbot staff ...``, ``hipbot broadcast``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.features.clinics import broadcast as bc
from bot.features.clinics.chat import message_problem, shown_when
from bot.features.clinics.rules import (
    check_patient_ref,
    deep_link,
    load_audiences,
    patient_message,
)
from bot.features.clinics.store import CliError, Clinic, ClinicStore, find_clinic
from bot.settings import check_bot_username
from bot.storage.sql import SqlStorage

# ---------------------------------------------------------------- command line


def add_cli(subparsers: Any) -> None:
    db_help = "database URL (default: $DATABASE_URL or ./data/hipbot.db)"
    clinic = subparsers.add_parser("clinic", help="add clinics and make their join links")
    clinic_cmds = clinic.add_subparsers(dest="clinic_command", required=True, metavar="ACTION")
    add = clinic_cmds.add_parser("add", help="create a clinic with a deep-link code")
    add.add_argument("name")
    add.add_argument("--db", help=db_help)
    add.set_defaults(func=_cli_clinic_add)
    link = clinic_cmds.add_parser("link", help="print a join link and write its QR code PNG")
    link.add_argument("clinic", help="clinic id, code or name")
    link.add_argument("--patient", help="the clinic's own code for one patient (never a name)")
    link.add_argument(
        "--out", help="QR code PNG file (default: clinic-ID[-REF].png in the data folder)"
    )
    link.add_argument("--bot", help="the bot's username (default: $HIPBOT_BOT_USERNAME)")
    link.add_argument("--db", help=db_help)
    link.set_defaults(func=_cli_clinic_link)
    listing = clinic_cmds.add_parser("list", help="every clinic with its code")
    listing.add_argument("--db", help=db_help)
    listing.set_defaults(func=_cli_clinic_list)

    staff = subparsers.add_parser("staff", help="who may broadcast for a clinic")
    staff_cmds = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    staff_add = staff_cmds.add_parser("add", help="make a Telegram user staff of a clinic")
    staff_add.add_argument("clinic", help="clinic id, code or name")
    staff_add.add_argument("user_id", help="their Telegram user id (a number)")
    staff_add.add_argument("--role", choices=["admin", "editor"], required=True)
    staff_add.add_argument("--db", help=db_help)
    staff_add.set_defaults(func=_cli_staff_add)
    staff_list = staff_cmds.add_parser("list", help="staff of one clinic (or of all)")
    staff_list.add_argument("clinic", nargs="?")
    staff_list.add_argument("--db", help=db_help)
    staff_list.set_defaults(func=_cli_staff_list)
    staff_remove = staff_cmds.add_parser("remove", help="take someone off a clinic's staff")
    staff_remove.add_argument("clinic")
    staff_remove.add_argument("user_id")
    staff_remove.add_argument("--db", help=db_help)
    staff_remove.set_defaults(func=_cli_staff_remove)
    login = staff_cmds.add_parser(
        "login-link", help="send a staff member a dashboard sign-in code on Telegram, and print it"
    )
    login.add_argument("clinic")
    login.add_argument("user_id")
    login.add_argument("--db", help=db_help)
    login.set_defaults(func=_cli_staff_login)

    send = subparsers.add_parser(
        "broadcast",
        help="send a message to a clinic's patients, or 'broadcast status ID'",
        description="hipbot broadcast --clinic C --audience A --text-file F [--at TIME] "
        "[--dry-run]  |  hipbot broadcast status ID",
    )
    send.add_argument("status", nargs="*", help="'status ID': how a broadcast is going")
    send.add_argument("--clinic", help="clinic id, code or name")
    send.add_argument("--audience", default="all", help="audience name (default: all)")
    send.add_argument("--text-file", help="the message (Telegram HTML), UTF-8")
    send.add_argument(
        "--at", help="local time in each patient's time zone: 09:30 or 2026-11-20 09:30"
    )
    send.add_argument("--dry-run", action="store_true", help="check and count, send nothing")
    send.add_argument("--report-to", help="Telegram user id of staff to send the report to")
    send.add_argument("--flows", help="folder of flow and audience files (default: ./flows)")
    send.add_argument("--db", help=db_help)
    send.add_argument(
        "--follow",
        action="store_true",
        help="with 'status ID': show progress until the broadcast is done or cancelled",
    )
    send.set_defaults(func=_cli_broadcast)


def _cli(
    run: Callable[[argparse.Namespace, SqlStorage], int],
) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        from bot.settings import default_database_url, load_dotenv_file
        from bot.storage import open_storage

        load_dotenv_file()
        storage = open_storage(args.db or default_database_url())
        if not isinstance(storage, SqlStorage):
            print("hipbot: clinics need a database: set DATABASE_URL", file=sys.stderr)
            return 2
        try:
            ClinicStore(storage.db).migrate()
            return run(args, storage)
        except (CliError, ValueError) as error:
            print(f"hipbot: {error}", file=sys.stderr)
            return 1
        finally:
            storage.close()

    return wrapped


def _find_clinic(store: ClinicStore, key: str) -> Clinic:
    clinic = find_clinic(store, key)
    if clinic is None:
        known = ", ".join(f"{c.id} ({c.name})" for c in store.clinics_for_operator()) or "none yet"
        raise CliError(f"no clinic {key!r}; clinics: {known}. Add one with: hipbot clinic add NAME")
    return clinic


def _bot_username(given: str | None) -> str | None:
    from bot.settings import load_settings

    name = given or load_settings().bot_username
    return check_bot_username(name) if name else None


@_cli
def _cli_clinic_add(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    name = " ".join(args.name.split())
    same = [c for c in store.clinics_for_operator() if c.name.casefold() == name.casefold()]
    if same:
        raise CliError(
            f"clinic {same[0].id} is already named {same[0].name!r}: choose another name "
            "(two clinics with one name could not be told apart)"
        )
    clinic = store.add_clinic(name, time.time())
    print(f"clinic {clinic.id}: {clinic.name}")
    print(f"code: {clinic.code}")
    username = _bot_username(None)
    if username:
        print(f"link: {deep_link(username, clinic.code)}")
    print(
        f"next: hipbot clinic link {clinic.id} (link and QR code), hipbot staff add {clinic.id} ..."
    )
    return 0


@_cli
def _cli_clinic_link(args: argparse.Namespace, storage: SqlStorage) -> int:
    import segno

    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    username = _bot_username(args.bot)
    if username is None:
        raise CliError(
            "which bot? Set HIPBOT_BOT_USERNAME or pass --bot with the bot's username "
            "(as @BotFather shows it, without the @)"
        )
    if args.patient is not None:
        ref = check_patient_ref(args.patient)
        code = store.add_invite(clinic.id, ref, time.time())
        default_out = f"clinic-{clinic.id}-{ref}.png"
    else:
        code, default_out = clinic.code, f"clinic-{clinic.id}.png"
    link = deep_link(username, code)
    out = Path(args.out) if args.out else _data_dir() / default_out
    out.parent.mkdir(parents=True, exist_ok=True)
    segno.make(link, error="m").save(str(out), kind="png", scale=10, border=4)
    print(link)
    print(f"QR code: {out.resolve()}")
    return 0


@_cli
def _cli_clinic_list(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinics = store.clinics_for_operator()
    for clinic in clinics:
        print(f"{clinic.id}\t{clinic.name}\t{clinic.code}\t{len(store.patients(clinic.id))} linked")
    if not clinics:
        print("no clinics yet: hipbot clinic add NAME")
    return 0


@_cli
def _cli_staff_add(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    store.add_staff(clinic.id, args.user_id.strip(), args.role, time.time())
    print(f"{args.user_id} is now {args.role} of clinic {clinic.id} ({clinic.name})")
    return 0


@_cli
def _cli_staff_login(args: argparse.Namespace, storage: SqlStorage) -> int:
    from bot.features.clinics import dashboard
    from bot.settings import load_settings

    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    user = args.user_id.strip()
    url = load_settings().web_url.rstrip("/")
    try:
        code = dashboard.send_code(storage.db, clinic.id, user, time.time(), url)
    except LookupError:
        raise CliError(
            f"{user} is not staff of clinic {clinic.id} ({clinic.name}): "
            f"hipbot staff add {clinic.id} {user} --role admin"
        ) from None
    except dashboard.TooManyCodes as error:
        raise CliError(str(error)) from None
    print(f"code (queued to {user} on Telegram; works once, for 10 minutes): {code}")
    print(f"sign in: {url or 'http://127.0.0.1:8090'}/clinic/login?code={code}")
    return 0


@_cli
def _cli_staff_list(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinics = [_find_clinic(store, args.clinic)] if args.clinic else store.clinics_for_operator()
    shown = 0
    for clinic in clinics:
        for member in store.staff(clinic.id):
            print(f"{clinic.id}\t{clinic.name}\t{member.user_id}\t{member.role}")
            shown += 1
    if shown:
        return 0
    if not clinics:
        print("no clinics yet: hipbot clinic add NAME")
    elif args.clinic:
        clinic = clinics[0]
        print(
            f"clinic {clinic.id} ({clinic.name}) has no staff yet: {_STAFF_ADD.format(clinic.id)}"
        )
    else:
        print(f"no clinic has staff yet: {_STAFF_ADD.format('CLINIC')}")
    return 0


_STAFF_ADD = "hipbot staff add {} TELEGRAM_USER_ID --role admin"


def _data_dir() -> Path:
    from bot.settings import load_settings

    return load_settings().data_dir


@_cli
def _cli_staff_remove(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    if not store.remove_staff(clinic.id, args.user_id.strip()):
        raise CliError(f"{args.user_id} is not staff of clinic {clinic.id} ({clinic.name})")
    print(f"{args.user_id} is no longer staff of clinic {clinic.id} ({clinic.name})")
    return 0


@_cli
def _cli_broadcast(args: argparse.Namespace, storage: SqlStorage) -> int:
    if args.status:
        if len(args.status) != 2 or args.status[0] != "status" or not args.status[1].isdigit():
            raise CliError("use: hipbot broadcast status ID  (or --clinic ... to send one)")
        if args.follow:
            follow_broadcast(storage, int(args.status[1]))
        return _broadcast_status(storage, int(args.status[1]))
    if not args.clinic or not args.text_file:
        raise CliError("--clinic and --text-file are needed (see hipbot broadcast --help)")
    from bot.settings import default_flows_dir

    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    folder = args.flows or default_flows_dir()
    known = load_audiences(folder)
    audience = known.get(args.audience)
    if audience is None:
        raise CliError(
            f"no audience {args.audience!r} in {folder}; audiences: {', '.join(sorted(known))}"
        )
    text, by_language = _broadcast_text(args.text_file)
    for language, said in (by_language or {"": text}).items():
        problem = message_problem(store, clinic.id, said)
        if problem:
            where = f"{args.text_file} > {language}" if language else args.text_file
            raise CliError(f"{where}: {_plain(problem)}")
    at = bc.parse_local_time(args.at) if args.at else None
    report_to = args.report_to.strip() if args.report_to else None
    if report_to is not None and clinic.id not in store.roles_of(report_to):
        raise CliError(f"--report-to {report_to} is not staff of clinic {clinic.id}")
    now = time.time()
    people, left_out = bc.split_by_language(bc.recipients(storage, clinic.id, audience, now), text)
    when = f"at {at} in each patient's own time zone" if at else "now"
    if left_out:
        counts = ", ".join(f"{code}: {n}" for code, n in sorted(left_out.items()))
        print(
            f"skipped for language: {sum(left_out.values())} patients have no text in their "
            f"language ({counts})"
        )
    if args.dry_run:
        print(f"dry run: {len(people)} recipients ({audience.id}: {audience.label}), {when}")
        for language, said in (by_language or {"": text}).items():
            if language:
                print(f"[{language}]")
            print(
                patient_message(clinic.name, said, bc.stop_data(clinic.id), language or "en").text
            )
        return 0
    draft = store.create_draft(clinic.id, "cli", now)
    store.update_draft(
        clinic.id, draft, text=text, audience=audience.id, at_time=str(at) if at else None
    )
    count = bc.queue(storage, clinic.id, draft, audience, at, now, report_to, text)
    print(f"broadcast #{draft} queued for {count} recipients ({audience.id}), {when}")
    print(f"the running bot sends it; see: hipbot broadcast status {draft}")
    return 0


def _broadcast_text(path: str) -> tuple[str, dict[str, str] | None]:
    """A broadcast file: one text for all, or YAML with one text per language
    (``en: ...``, ``es: ...``); the stored text and the texts by language (None: one text)."""
    import re

    import yaml

    from bot.languages import SUPPORTED

    try:
        raw = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {path}: {error}") from error
    try:
        parsed = yaml.safe_load(raw)
    except yaml.YAMLError:
        parsed = None
    if not isinstance(parsed, dict) or not all(
        isinstance(key, str) and re.fullmatch("[a-z]{2,3}", key) for key in parsed
    ):
        return raw, None  # one text ("Note: ..." is a text, not a language)
    texts: dict[str, str] = {}
    for language, said in parsed.items():
        if language not in SUPPORTED:
            raise CliError(
                f"{path} > {language}: not a language the bot speaks ({', '.join(SUPPORTED)})"
            )
        if not isinstance(said, str) or not said.strip():
            raise CliError(f"{path} > {language}: give the message text for this language")
        texts[str(language)] = said.strip()
    return bc.encode_texts(texts), texts


def _plain(text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", text))


FOLLOW_EVERY = 2.0  # seconds between looks at a followed broadcast


def follow_broadcast(
    storage: SqlStorage,
    broadcast_id: int,
    sleep: Callable[[float], None] = time.sleep,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    tty: bool | None = None,
) -> str:
    """Show a broadcast's deliveries going out (a bar on a terminal, plain lines otherwise)
    until it is done or cancelled; its final state."""
    from bot.progress_bar import Progress

    store = ClinicStore(storage.db)
    bar: Progress | None = None
    while True:
        item = store.broadcast_for_operator(broadcast_id)
        if item is None or item.state == "draft":
            raise CliError(f"no broadcast #{broadcast_id}")
        counts = store.counts(item.clinic_id, item.id)
        if bar is None:
            bar = Progress(f"broadcast #{item.id}", counts.total, stream, clock, tty)
        bar.update(counts.total - counts.pending, counts.total)
        if item.state in ("done", "cancelled") and item.finished_at is not None:
            bar.finish(f"{item.state}: {counts.line(masked=False)}")
            return item.state
        sleep(FOLLOW_EVERY)


def _broadcast_status(storage: SqlStorage, broadcast_id: int) -> int:
    store = ClinicStore(storage.db)
    item = store.broadcast_for_operator(broadcast_id)
    if item is None or item.state == "draft":
        raise CliError(f"no broadcast #{broadcast_id}")
    clinic = store.clinic(item.clinic_id)
    counts = store.counts(item.clinic_id, item.id)
    print(f"broadcast #{item.id}: {item.state}")
    print(f"clinic: {item.clinic_id} ({clinic.name if clinic else '?'})")
    print(f"audience: {item.audience}" + (f", at {item.at_time} local" if item.at_time else ""))
    print(f"queued: {shown_when(item.queued_at)}  finished: {shown_when(item.finished_at)}")
    print(f"recipients: {counts.total}  {counts.line(masked=False)}")
    return 0
