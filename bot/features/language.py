"""``/language``: a person picks the language the bot uses with them.

The buttons name each language in its own words (``bot.languages.NATIVE_NAMES``); typing a
language's name works too ("español", "Deutsch", "english"). The choice is stored in the
session, and the person sees where they were again, in the new language. Someone with no
session yet starts the conversation in it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from bot import texts
from bot.content import fill
from bot.features import Context, Feature, Response, button
from bot.languages import NATIVE_NAMES, SUPPORTED
from bot.model import Event, Reply
from bot.telegram_html import escape

KEY = "lang"

# Typed words that name a language, folded (no accents, lower case), in any of the languages.
LANGUAGE_WORDS: dict[str, str] = {
    "english": "en",
    "englisch": "en",
    "ingles": "en",
    "espanol": "es",
    "spanish": "es",
    "spanisch": "es",
    "castellano": "es",
    "deutsch": "de",
    "german": "de",
    "aleman": "de",
}


def fold(text: str) -> str:
    """Lower case without accents: "Español" and "espanol" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .!")


def language_named(text: str) -> str | None:
    """The language a typed word names, else None."""
    return LANGUAGE_WORDS.get(fold(text))


def choose(ctx: Context) -> Response:
    """/language: one button per language, each named in its own language."""
    language = _current(ctx)
    if ctx.args:
        named = language_named(ctx.args)
        if named is not None:
            return _switch(ctx, named)
    rows = tuple((button(KEY, code, NATIVE_NAMES[code]),) for code in SUPPORTED)
    text = ctx.engine.text(texts.CHOOSE_LANGUAGE).get(language)
    return Response([Reply(text, rows)])


def pressed(ctx: Context, argument: str) -> Response:
    """A language button: store it, and show where the person was in it."""
    if argument not in SUPPORTED:
        return choose(ctx)
    response = _switch(ctx, argument)
    return replace(response, edit=Reply(f"✓ {escape(NATIVE_NAMES[argument])}"))


def typed(ctx: Context, text: str) -> Response | None:
    """A typed language name ("español") switches to it; any other text is not ours."""
    named = language_named(text) if len(text) <= 20 else None
    if named is None:
        return None
    return _switch(ctx, named)


def _current(ctx: Context) -> str:
    return ctx.session.language if ctx.session is not None else ctx.language


def _switch(ctx: Context, language: str) -> Response:
    said = fill(
        ctx.engine.text(texts.LANGUAGE_SET).get(language),
        language=escape(NATIVE_NAMES[language]),
    )
    note = Reply(said)
    session = ctx.session
    if session is None:  # a new person: their conversation starts in the language
        again = ctx.engine.handle(None, Event("start", at=ctx.now), ctx.user_id, language)
    else:
        again = ctx.engine.repeat(replace(session, language=language))  # its revision: +1
    ctx.storage.commit_turn(again.session, again.effects, (), ctx.now)
    return Response([note, *(r for r in again.replies if not r.edit)])


def feature() -> Feature:
    return Feature(
        name="language",
        commands={"language": choose},
        descriptions={"language": "Language · Idioma · Sprache"},
        buttons={KEY: pressed},
        text=typed,
    )
