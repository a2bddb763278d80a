"""Rules of the house that hold for every module: one exception root, schema names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pydantic import BaseModel

import bot
from bot import schema
from bot.errors import HipbotError

# In modules being reshaped elsewhere (issue 13, channels and features): move them under
# HipbotError there, then drop them from this list.
NOT_YET: set[str] = set()


def bot_modules() -> list[str]:
    """Every module under bot/ but ``bot.__main__`` (importing it runs the CLI)."""
    found = pkgutil.walk_packages(bot.__path__, "bot.")
    return [info.name for info in found if info.name != "bot.__main__"]


def test_every_exception_class_derives_from_hipbot_error() -> None:
    outside = []
    for name in bot_modules():
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            where = f"{name}.{cls_name}"
            if cls.__module__ != name or not issubclass(cls, BaseException):
                continue
            if not issubclass(cls, HipbotError) and where not in NOT_YET:
                outside.append(where)
    assert not outside, f"exceptions that do not derive from bot.errors.HipbotError: {outside}"


def test_the_check_finds_exception_classes() -> None:
    from bot.telegram_html import HtmlProblem

    assert issubclass(HtmlProblem, HipbotError) and issubclass(HtmlProblem, ValueError)


def test_every_schema_class_ends_in_doc() -> None:
    models = [
        cls.__name__
        for cls in vars(schema).values()
        if inspect.isclass(cls) and issubclass(cls, BaseModel) and cls.__module__ == schema.__name__
    ]
    assert len(models) > 20
    assert [name for name in models if not name.endswith("Doc")] == []
