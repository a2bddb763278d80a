"""Features as packages behind ports (issue 13).

* Each feature lives in ``bot/features/<name>/`` with its parts apart, and talks to no
  channel: nothing under ``bot/features`` imports ``bot.telegram``.
* A feature's chat handlers are its own: no other feature imports them, nor any private
  (``_``) name of another feature.
* The environment is read in ``bot/settings.py`` only (and the documented exceptions); feature
  code outside its ``cli.py`` entry points never loads the settings itself.
* What the process loaded is what features use: Features built for a copied flows folder
  whose follow-up text is changed send that text, not the one in ./flows.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from bot.features import FEATURE_MODULES, Loaded, load_features
from bot.features.reminders.ports import STORE
from bot.loader import load_bundle
from bot.settings import load_settings
from bot.storage import SqlStorage
from tests.test_imports import BOT, all_modules, import_graph

REPO = BOT.parent
FEATURES_DIR = BOT / "features"
# what each feature package holds, apart: its rules, chat side and command line where it has
# them, and a store.py when its tables are more than a few (privacy keeps its own in chat.py)
PARTS = {
    "clinics": ("rules", "chat", "cli", "store"),
    "privacy": ("rules", "chat", "cli"),
    "progress": ("chat", "store"),  # no command line; its drawing is bot.progress
    "reminders": ("rules", "chat", "cli", "store"),
}
# where reading the environment is allowed, and why
ENVIRONMENT_READERS = {
    "bot/settings.py": "every setting, read and checked in one place",
    "bot/lint.py": "NLTK's and the cache's folders (XDG_CACHE_HOME, NLTK_DATA)",
    "bot/telegram/app.py": "python-telegram-bot's own switch, set before it is imported",
}


def feature_of(module: str) -> str | None:
    """``reminders`` for ``bot.features.reminders.chat``; None outside a feature."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["bot", "features"] else None


def test_each_feature_package_has_its_parts_apart() -> None:
    packages = sorted(p for p in FEATURES_DIR.iterdir() if (p / "__init__.py").is_file())
    assert [p.name for p in packages] == sorted(PARTS)
    for package in packages:
        present = {path.stem for path in package.glob("*.py")}
        wanted = {"__init__", *PARTS[package.name]}
        assert wanted <= present, f"{package.name}: has only {sorted(present)}"
    assert (FEATURES_DIR / "heartbeat.py").is_file()
    assert (FEATURES_DIR / "language.py").is_file()
    assert FEATURE_MODULES == [
        "bot.features.heartbeat",
        "bot.features.clinics",
        "bot.features.privacy",
        "bot.features.reminders",
        "bot.features.progress",
        "bot.features.language",
    ]


def test_no_feature_module_imports_a_channel() -> None:
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith("bot.features")
        for target in targets
        if target == "bot.telegram" or target.startswith(("bot.telegram.", "bot.web"))
    )
    assert not wrong, "\n".join(wrong)


def test_no_feature_imports_another_features_chat_handlers_or_private_names() -> None:
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if feature_of(module) and feature_of(target)
        if feature_of(module) != feature_of(target) and target.endswith(".chat")
    )
    for name, path in all_modules().items():
        if not feature_of(name):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            other = feature_of(node.module or "") if isinstance(node, ast.ImportFrom) else None
            if isinstance(node, ast.ImportFrom) and other and other != feature_of(name):
                wrong += [
                    f"{name} imports {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert not wrong, "\n".join(wrong)


def _reads_environment(tree: ast.AST) -> list[int]:
    """Lines that read ``os.environ`` or call ``os.getenv``."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append(node.lineno)
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {alias.name for alias in node.names} & {"environ", "getenv"}
        ):
            found.append(node.lineno)
    return found


def test_the_environment_is_read_in_settings_only() -> None:
    wrong = []
    for path in sorted(BOT.rglob("*.py")):
        name = path.relative_to(REPO).as_posix()
        if name in ENVIRONMENT_READERS:
            continue
        lines = _reads_environment(ast.parse(path.read_text(encoding="utf-8")))
        wrong += [f"{name}:{line}" for line in lines]
    assert not wrong, "the environment is read outside bot/settings.py:\n" + "\n".join(wrong)


def test_the_environment_check_finds_a_planted_read() -> None:
    assert _reads_environment(ast.parse("import os\nx = os.environ.get('A')\n")) == [2]
    assert _reads_environment(ast.parse("from os import getenv\n")) == [1]
    assert _reads_environment(ast.parse("import os\nx = os.path.join('a')\n")) == []


def test_feature_code_other_than_its_cli_never_loads_settings() -> None:
    wrong = []
    for path in sorted(FEATURES_DIR.rglob("*.py")):
        if path.name == "cli.py":
            continue  # an entry point: `hipbot reminders ...` reads its settings there
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("load_settings", "default_flows_dir", "load_bundle")
            ):
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno} {node.func.id}()")
    # the framework loads what an entry point left out, once per process (bot.features.Loaded)
    allowed = {"bot/features/__init__.py"}
    wrong = [line for line in wrong if line.split(":")[0] not in allowed]
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------- one flow load per process

CHANGED = "Welcome from the copied flows folder!"
SHIPPED = "Welcome! For the next six weeks I will send you a short tip now and then."
USER, CHAT = "555", 555
NOW = 1_780_322_400.0  # 2026-06-01 14:00 UTC: 15:00 in London, past day 0's 10:00


@pytest.fixture
def copied_flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(REPO / "flows", folder)
    followups = folder / "followups.yaml"
    text = followups.read_text(encoding="utf-8")
    assert SHIPPED in text
    followups.write_text(text.replace(SHIPPED, CHANGED), encoding="utf-8")
    return folder


def test_features_built_for_a_flows_folder_send_its_follow_ups(copied_flows: Path) -> None:
    settings = load_settings({})  # ./flows by default: the features must not read it
    paths = [str(copied_flows)]
    features = load_features(loaded=Loaded(settings, load_bundle(paths), paths))
    storage = SqlStorage(":memory:")
    features.setup(storage)
    store = features.ports(storage).get(STORE)
    store.save_settings(USER, NOW, tz="Europe/London")
    assert store.enroll_followups(USER, CHAT, "hip_weeks", NOW) is not None
    (sweep,) = [job for job in features.jobs if job.__name__ == "sweep"]
    assert sweep(storage, NOW + 5) == 1
    (row,) = storage.claim_outbox(10, NOW + 5)
    assert CHANGED in row.params["text"]
    assert SHIPPED not in row.params["text"]
    storage.close()
