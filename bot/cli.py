"""The ``hipbot`` command line: run | chat | validate | lint | graph | test."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import ConfigError, FlowErrors


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
    from bot.settings import Settings, default_data_dir, load_dotenv_file
    from bot.storage import SqliteStorage, open_storage

    load_dotenv_file()
    settings = Settings.from_env()
    bundle = load_bundle([args.flows or settings.flows_dir])
    storage = open_storage(args.db or settings.database_url)
    features = load_features()
    if isinstance(storage, SqliteStorage):
        features.setup(storage)
    engine = Engine(bundle, {"emergency_number": settings.emergency_number})
    chat_id = console.console_chat_id(args.user)
    conversation = Conversation(engine, storage, str(chat_id))
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

    from bot.features import load_features

    load_features().add_cli(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as error:
        print(f"hipbot: {error}", file=sys.stderr)
        return 2
    except FlowErrors as errors:
        print(errors, file=sys.stderr)
        print(f"\n{len(errors.errors)} problem(s) found: run 'hipbot validate'.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
