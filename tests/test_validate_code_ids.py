"""``hipbot validate`` names a step or answer id that Python code relies on and the flows lost.

The reminders feature goes to steps of the reminders flow (``FIRST_STEP``, ``START``, ...) and
reads its answers (``sit_start``, ``ci_pain``, ...). Renaming one in YAML alone used to pass
validation and break the feature quietly; now the copy of ``flows/`` that drops one fails
with the file, the id and the code that needs it.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from bot.authoring import code_needs
from bot.errors import FlowErrors
from bot.features.reminders import chat as reminders_feature
from bot.loader import load_bundle

REPO = Path(__file__).resolve().parent.parent
GOOD = REPO / "tests" / "flows" / "good"


@pytest.fixture
def flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of flows/ (without transcripts), named ``flows`` in the current folder."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(
        REPO / "flows", tmp_path / "flows", ignore=shutil.ignore_patterns("transcripts")
    )
    return Path("flows")


def rename(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert re.search(rf"\b{old}\b", text), f"{old} is not in {path}"
    path.write_text(re.sub(rf"\b{old}\b", new, text), encoding="utf-8")


def problems(folder: Path) -> list[str]:
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])
    return [str(error) for error in caught.value.errors]


def test_the_shipped_flows_have_every_id_the_code_needs() -> None:
    load_bundle([REPO / "flows"])


def test_a_renamed_step_the_feature_goes_to_is_named(flows: Path) -> None:
    step = reminders_feature.FIRST_STEP["followup"]
    assert step == "rem_fu_intro"
    rename(flows / "reminders.yaml", step, "rem_fu_hello")  # the step and every link to it
    assert problems(flows) == [
        "flows/reminders.yaml > steps: no step 'rem_fu_intro' in flow 'reminders', but "
        "bot.features.reminders.chat relies on it (the /reminders buttons and a check-in reminder "
        "go there): keep the step, or change the code with it"
    ]


def test_an_answer_no_step_saves_any_more_is_named(flows: Path) -> None:
    rename(flows / "reminders.yaml", "ci_trend", "ci_feeling")  # the save and every test on it
    assert problems(flows) == [
        "flows/reminders.yaml: no step saves the answer 'ci_trend', but bot.features.reminders.chat "
        "reads it (it saves a person's time zone and keeps each check-in): keep "
        "'save: ci_trend', or change the code with it"
    ]


def test_an_answer_the_rules_read_is_named_with_a_hint(flows: Path) -> None:
    rename(flows / "reminders.yaml", "sit_start", "sit_begin")
    found = problems(flows)
    assert found == [
        "flows/reminders.yaml: no step saves the answer 'sit_start', but "
        "bot.features.reminders.rules.rule_from_answers reads it (a reminder's times and days): keep "
        "'save: sit_start', or change the code with it"
    ]


def test_a_flow_set_without_the_reminders_flow_is_not_asked_for_its_ids() -> None:
    assert "reminders" not in load_bundle([GOOD]).flows


def answers_read_in_code() -> set[str]:
    """Every ``<...>answers.get("name")`` in bot/: the answer names code reads by literal."""
    found: set[str] = set()
    for path in (REPO / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and ast.unparse(node.func.value).endswith("answers")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_answer_code_reads_by_name_is_declared() -> None:
    declared = {answer for need in code_needs() for answer in need.answers}
    read = answers_read_in_code()
    assert {"sit_start", "ci_pain", "quiet_end"} <= read  # the scan sees them
    assert read - declared == set(), "declare these in a CodeNeeds (bot.kinds)"
