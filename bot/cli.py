"""The ``hipbot`` command line: run | chat | validate | lint | graph | test."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError, FlowErrors, StorageError

if TYPE_CHECKING:
    from bot.storage import SqlStorage


def _validate(args: argparse.Namespace) -> int:
    from bot.loader import load_bundle

    paths = args.paths or [_flows()]
    try:
        bundle = load_bundle(paths)
    except FlowErrors as errors:
        print(errors, file=sys.stderr)
        print(f"\n{len(errors.errors)} problem(s) found.", file=sys.stderr)
        return 1
    steps = sum(len(flow.steps) for flow in bundle.flows.values())
    tips = sum(len(catalog.tips) for catalog in bundle.catalogs.values())
    print(
        f"OK: {len(bundle.flows)} flow(s), {steps} steps, {len(bundle.catalogs)} catalog(s), "
        f"{tips} tips in {', '.join(map(str, paths))}"
    )
    return 0


def _chat(args: argparse.Namespace) -> int:
    from bot import console
    from bot.conversation import Conversation
    from bot.engine import Engine
    from bot.features import load_features
    from bot.loader import load_bundle
    from bot.settings import Settings, default_data_dir, load_dotenv_file, urgent_care
    from bot.storage import SqlStorage, open_storage

    load_dotenv_file()
    settings = Settings.from_env()
    bundle = load_bundle([args.flows or settings.flows_dir])
    storage = open_storage(args.db or settings.database_url)
    features = load_features()
    if isinstance(storage, SqlStorage):
        features.setup(storage)
    config = {"emergency_number": settings.emergency_number, "urgent_care": urgent_care()}
    engine = Engine(bundle, config)
    chat_id = console.console_chat_id(args.user)
    conversation = Conversation(engine, storage, str(chat_id), clock=time.time)
    try:
        return console.main(
            console.Console(conversation, features, chat_id, sys.stdout, files=default_data_dir())
        )
    finally:
        storage.close()


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
    from bot import telegram_app

    return telegram_app.main()


def _open_all(url: str) -> SqlStorage:
    """A storage with every feature's tables migrated."""
    from bot.features import load_features
    from bot.storage import SqlStorage, open_storage

    storage = open_storage(url)
    if not isinstance(storage, SqlStorage):
        raise ConfigError(
            f"{url!r} is not a database URL: use sqlite:///file.db or postgresql://..."
        )
    load_features().setup(storage)
    return storage


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.settings import default_database_url

    url = args.url or default_database_url()
    storage = _open_all(url)
    versions = storage.db.all("SELECT store, max(version) FROM schema_migrations GROUP BY store")
    storage.close()
    print("up to date: " + ", ".join(f"{store} v{version}" for store, version in sorted(versions)))
    return 0


def _db_copy(args: argparse.Namespace) -> int:
    from bot.storage.copy import copy_database

    source = _open_all(args.source)
    target = _open_all(args.target)
    try:
        counts = copy_database(source, target, lambda t, n: print(f"  {t}: {n} rows"))
    finally:
        source.close()
        target.close()
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables")
    return 0


def _flows() -> str:
    from bot.settings import default_flows_dir

    return default_flows_dir()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hipbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    run.set_defaults(func=_run)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", default="me", help="whose conversation (default: me)")
    chat.add_argument("--flows", help="folder of flow files (default: ./flows)")
    chat.add_argument("--db", help="database URL (default: $DATABASE_URL or ./data/hipbot.db)")
    chat.set_defaults(func=_chat)

    validate = commands.add_parser("validate", help="check flow files, report every problem")
    validate.add_argument("paths", nargs="*", help="files or folders (default: flows/)")
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

    db = commands.add_parser("db", help="database: upgrade, copy")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply every migration")
    upgrade.add_argument("url", nargs="?", help="database URL (default: $DATABASE_URL)")
    upgrade.set_defaults(func=_db_upgrade)
    copy = db_commands.add_parser("copy", help="copy all data into a new, empty database")
    copy.add_argument("source", help="e.g. sqlite:///data/hipbot.db")
    copy.add_argument("target", help="e.g. postgresql://hipbot@db.example/hipbot")
    copy.set_defaults(func=_db_copy)

    from bot.features import load_features

    load_features().add_cli(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
