"""The ``hipbot`` command line: the bot, its flows, its database and its clinics.

Every command reads its configuration the same way: ``.env`` in the working folder, then the
environment (which wins), checked by ``bot.settings.load_settings``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError, FlowErrors, StorageError
from bot.languages import SUPPORTED

if TYPE_CHECKING:
    from bot.crypto import Codec
    from bot.features import Features
    from bot.storage import SqlStorage


def _validate(args: argparse.Namespace) -> int:
    from bot import translations
    from bot.languages import SUPPORTED
    from bot.loader import load_bundle

    paths = args.paths or [_flows()]
    languages = _languages(args.languages) if args.languages else SUPPORTED
    try:
        bundle = load_bundle(paths, languages=languages)
    except FlowErrors as errors:
        broken = [e for e in errors.errors if not isinstance(e, translations.MissingTranslation)]
        # the structure first: translations of a flow that does not load are noise
        shown = broken or errors.errors
        print("\n".join(map(str, shown)), file=sys.stderr)
        if not broken:
            print(f"\nTranslations: {translations.gaps(shown, languages)}", file=sys.stderr)
        print(f"\n{len(shown)} problem(s) found.", file=sys.stderr)
        return 1
    steps = sum(len(flow.steps) for flow in bundle.flows.values())
    tips = sum(len(catalog.tips) for catalog in bundle.catalogs.values())
    print(
        f"OK: {len(bundle.flows)} flow(s), {steps} steps, {len(bundle.catalogs)} catalog(s), "
        f"{tips} tips in {', '.join(map(str, paths))}"
    )
    return 0


def _languages(raw: str) -> tuple[str, ...]:
    """``es,de`` as the languages to require (English always), each one hipbot supports."""
    from bot.languages import SUPPORTED

    asked = tuple(dict.fromkeys(["en", *(code.strip() for code in raw.split(",") if code.strip())]))
    unknown = [code for code in asked if code not in SUPPORTED]
    if unknown:
        raise ConfigError(
            f"--languages {raw}: {', '.join(unknown)} not supported; bot/languages.py "
            f"SUPPORTED has {', '.join(SUPPORTED)}"
        )
    return asked


def _chat(args: argparse.Namespace) -> int:
    from bot import console
    from bot.conversation import Conversation
    from bot.engine import Engine
    from bot.features import Loaded, load_features
    from bot.loader import load_bundle
    from bot.settings import Settings, default_data_dir, load_dotenv_file, urgent_care
    from bot.storage import SqlStorage, open_storage

    load_dotenv_file()
    settings = Settings.from_env()
    paths = [args.flows or settings.flows_dir]
    bundle = load_bundle(paths)
    opened = open_storage(args.db or settings.database_url)
    # memory://: the same, in an in-memory SQLite
    storage = opened if isinstance(opened, SqlStorage) else open_storage("sqlite://:memory:")
    assert isinstance(storage, SqlStorage)
    features = load_features(loaded=Loaded(settings, bundle, paths))
    features.setup(storage)
    config = {"emergency_number": settings.emergency_number, "urgent_care": urgent_care()}
    engine = Engine(bundle, config)
    chat_id = console.console_chat_id(args.user)
    conversation = Conversation(engine, storage, str(chat_id), clock=time.time)
    try:
        return console.main(
            console.Console(
                conversation,
                features,
                chat_id,
                sys.stdout,
                files=default_data_dir(),
                language=args.language,
            )
        )
    finally:
        storage.close()


def _web(args: argparse.Namespace) -> int:
    from bot.engine import Engine
    from bot.features import Loaded, load_features
    from bot.loader import load_bundle
    from bot.settings import Settings, load_dotenv_file, urgent_care
    from bot.web.clinic import ClinicSettings
    from bot.web.server import WebApp, WebSettings, serve

    load_dotenv_file()
    settings = Settings.from_env()
    paths = [args.flows or settings.flows_dir]
    bundle = load_bundle(paths)
    features = load_features(loaded=Loaded(settings, bundle, paths))
    storage = _open_all(args.db or settings.database_url, features=features)
    config = {"emergency_number": settings.emergency_number, "urgent_care": urgent_care()}
    try:
        clinic = ClinicSettings(
            secure_cookies=not args.dev_http_cookies,
            public_url=settings.web_url,
        )
        serves = "clinic" if args.clinic_only else "chat" if args.chat_only else "both"
        app = WebApp(
            Engine(bundle, config), storage, features, settings=WebSettings(serves=serves),
            clinic=clinic,
        )  # fmt: skip
        serve(app, args.host, args.port)
    finally:
        storage.close()
    return 0


def _graph(args: argparse.Namespace) -> int:
    from bot.graph import mermaid
    from bot.loader import load_bundle

    bundle = load_bundle([args.flows or _flows()])
    flow = bundle.flows.get(args.flow)
    if flow is None:
        known = ", ".join(sorted(bundle.flows))
        print(f"no flow named {args.flow!r}; flows: {known}", file=sys.stderr)
        return 1
    diagram = mermaid(flow)
    if args.out:
        Path(args.out).write_text(diagram, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(diagram, end="")
    return 0


def _test(args: argparse.Namespace) -> int:
    from bot import transcripts

    return transcripts.run(args.paths or [_flows()], sys.stdout)


def _lint(args: argparse.Namespace) -> int:
    from bot import lint

    return lint.run(args.paths or [_flows()])


def _run(args: argparse.Namespace) -> int:
    from bot.telegram import app as telegram_app

    return telegram_app.main()


def _open_all(url: str, codec: Codec | None = None, features: Features | None = None) -> SqlStorage:
    """A storage with every feature's tables migrated (``codec``: with these data keys;
    ``features``: the process's, else every feature loaded here)."""
    from bot.features import load_features
    from bot.storage import SqlStorage, open_storage

    storage = open_storage(url, codec)
    if not isinstance(storage, SqlStorage):
        raise ConfigError(
            f"{url!r} is not a database URL: use sqlite:///file.db or postgresql://..."
        )
    (features or load_features()).setup(storage)
    return storage


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.settings import default_database_url, load_dotenv_file

    load_dotenv_file()  # configuration as 'hipbot run' reads it
    url = args.url or default_database_url()
    storage = _open_all(url)
    versions = storage.db.all("SELECT store, max(version) FROM schema_migrations GROUP BY store")
    storage.close()
    print(
        f"{_shown(url)} up to date: "
        + ", ".join(f"{store} v{version}" for store, version in sorted(versions))
    )
    return 0


def _shown(url: str) -> str:
    """A database URL without its password, for messages."""
    import re

    return re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", url)


def _db_copy(args: argparse.Namespace) -> int:
    from bot.progress_bar import Progress
    from bot.settings import load_dotenv_file
    from bot.storage.copy import copy_database, finish_keys, plan_keys, row_count

    load_dotenv_file()  # the data keys, as 'hipbot run' reads them
    key_file = Path(args.source_key_file) if args.source_key_file else None
    plan = plan_keys(args.source, args.target, source_key_file=key_file)
    source = _open_all(args.source, plan.source)
    try:
        from bot.features import heartbeat

        heartbeat.refuse_while_running(source.db, time.time(), "copy it", force=args.force)
        target = _open_all(args.target, plan.target)
        try:
            with Progress("copying rows", row_count(source.db)) as bar:
                counts = copy_database(source, target, plan=plan, on_rows=bar.advance)
            finish_keys(plan)
        finally:
            target.close()
    finally:
        source.close()
    for table, count in counts.items():  # after the bar, which shares the terminal
        print(f"  {table}: {count} rows")
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables")
    print(plan.sentence())
    return 0


def _backup(args: argparse.Namespace) -> int:
    from bot import backup
    from bot.settings import default_database_url, load_dotenv_file

    load_dotenv_file()
    done = backup.backup(
        default_database_url(),
        Path(args.file),
        Path(args.key_out) if args.key_out else None,
        write_key=not args.no_key,
        force=args.force,
    )
    print(f"backed up {done.people} people into {done.file}")
    if done.key_file is not None:
        print(f"its data key is in {done.key_file} (0600): keep it safe, and apart from the backup")
    else:
        print(f"no key written: it opens only with the key from {done.key_origin}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from bot import backup
    from bot.settings import default_database_url, load_dotenv_file

    load_dotenv_file()
    print(
        backup.restore(
            default_database_url(),
            Path(args.file),
            Path(args.key) if args.key else None,
            force=args.force,
            now=time.time(),
        )
    )
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from bot import doctor

    return doctor.main(online=args.online)


def _pictures(args: argparse.Namespace) -> int:
    from bot.drawings import render_all
    from bot.settings import default_data_dir

    for path in render_all(Path(args.out) if args.out else default_data_dir() / "pictures"):
        print(path)
    return 0


def _flows() -> str:
    from bot.settings import default_flows_dir

    return default_flows_dir()


DESCRIPTION = "hipbot: a Telegram bot for people with hip impingement, and its tools."
EPILOG = (
    "Configuration: environment variables or a .env file (see README). 'hipbot doctor' checks it."
)


class _Formatter(argparse.HelpFormatter):
    """Each command with its one-line description on one line (argparse leaves out the
    commands' own indent when it lines up the descriptions, so long names wrap)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=24, width=100)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            longest = max((len(name) for name in action.choices), default=0)
            needed = longest + self._current_indent + self._indent_increment
            self._action_max_length = max(self._action_max_length, needed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hipbot", description=DESCRIPTION, epilog=EPILOG, formatter_class=_Formatter
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", title="commands"
    )

    run = commands.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    run.set_defaults(func=_run)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", default="me", help="whose conversation (default: me)")
    chat.add_argument(
        "--language",
        choices=SUPPORTED,
        default="en",
        help="a new conversation's language (default: en; /language changes it)",
    )
    chat.add_argument("--flows", help="folder of flow files (default: ./flows)")
    chat.add_argument("--db", help="database URL (default: $DATABASE_URL or ./data/hipbot.db)")
    chat.set_defaults(func=_chat)

    webchat = commands.add_parser("web", help="the same chat in a browser (mobile first)")
    webchat.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    webchat.add_argument("--port", type=int, default=8090, help="port (default: 8090)")
    webchat.add_argument("--flows", help="folder of flow files (default: ./flows)")
    webchat.add_argument("--db", help="database URL (default: $DATABASE_URL or ./data/hipbot.db)")
    webchat.add_argument(
        "--dev-http-cookies",
        action="store_true",
        help="the clinic dashboard's cookie without Secure (only for a local test on http)",
    )
    only = webchat.add_mutually_exclusive_group()
    only.add_argument(
        "--clinic-only", action="store_true", help="serve only the clinic dashboard (/clinic)"
    )
    only.add_argument(
        "--chat-only", action="store_true", help="serve only the web chat (no /clinic)"
    )
    webchat.set_defaults(func=_web)

    validate = commands.add_parser("validate", help="check flow files, report every problem")
    validate.add_argument("paths", nargs="*", help="files or folders (default: flows/)")
    validate.add_argument(
        "--languages",
        metavar="CODES",
        help="require only these translations, e.g. 'es' (default: every supported language)",
    )
    validate.set_defaults(func=_validate)

    lint = commands.add_parser("lint", help="reading level of every topic")
    lint.add_argument("paths", nargs="*", help="files or folders (default: flows/)")
    lint.set_defaults(func=_lint)

    graph = commands.add_parser("graph", help="a flow as a Mermaid state diagram")
    graph.add_argument("flow", help="flow id, e.g. hip")
    graph.add_argument("--out", help="write to this file instead of printing")
    graph.add_argument("--flows", help="folder of flow files (default: ./flows)")
    graph.set_defaults(func=_graph)

    test = commands.add_parser("test", help="run transcript tests, show step coverage")
    test.add_argument("paths", nargs="*", help="files or folders (default: flows/)")
    test.set_defaults(func=_test)

    doctor = commands.add_parser(
        "doctor", help="check configuration, database, data key and flows (--online: token)"
    )
    doctor.add_argument(
        "--online", action="store_true", help="also ask Telegram whether the token works"
    )
    doctor.set_defaults(func=_doctor)
    pictures = commands.add_parser("pictures", help="draw the flow pictures as PNG files")
    pictures.add_argument("--out", help="folder to write to (default: ./data/pictures)")
    pictures.set_defaults(func=_pictures)

    db = commands.add_parser("db", help="database: upgrade, copy")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply every migration")
    upgrade.add_argument("url", nargs="?", help="database URL (default: $DATABASE_URL)")
    upgrade.set_defaults(func=_db_upgrade)
    copy = db_commands.add_parser("copy", help="copy all data into a new, empty database")
    copy.add_argument("source", help="e.g. sqlite:///data/hipbot.db")
    copy.add_argument("target", help="e.g. postgresql://hipbot@db.example/hipbot")
    copy.add_argument(
        "--source-key-file",
        help="the key file that opens the source (default: the one beside a SQLite source,"
        " and HIPBOT_DATA_KEY / HIPBOT_DATA_KEY_FILE)",
    )
    copy.add_argument(
        "--force", action="store_true", help="copy although a bot looks alive (a stale entry)"
    )
    copy.set_defaults(func=_db_copy)

    backup = commands.add_parser(
        "backup", help="a consistent copy of the SQLite database, while the bot runs"
    )
    backup.add_argument("file", help="the backup file to write, e.g. backups/hipbot-2026-12-01.db")
    backup.add_argument("--key-out", help="write its data key here (default: FILE.key)")
    backup.add_argument("--no-key", action="store_true", help="do not write the data key")
    backup.add_argument("--force", action="store_true", help="overwrite FILE (and its key)")
    backup.set_defaults(func=_backup)
    restore = commands.add_parser("restore", help="put a backup in place of the SQLite database")
    restore.add_argument("file", help="a file 'hipbot backup' wrote")
    restore.add_argument("--key", help="the backup's key file (default: FILE.key)")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(func=_restore)

    from bot.features import load_features

    load_features().add_cli(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import bot.kinds  # noqa: F401  registers every document kind with the loader
    from bot.settings import load_dotenv_file

    load_dotenv_file()  # every command: ./.env under the environment
    try:
        code: int = args.func(args)
    except (ConfigError, StorageError) as error:
        print(f"hipbot: {error}", file=sys.stderr)
        return 2
    except FlowErrors as errors:
        print(errors, file=sys.stderr)
        print(f"\n{len(errors.errors)} problem(s) found: run 'hipbot validate'.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
