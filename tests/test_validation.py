"""Every deliberately broken flow in tests/flows/broken/ fails with its pinned message.

Each file has one kind of mistake (``several_mistakes.yaml`` has several, all reported at
once). Messages are pinned whole, breadcrumb included, because they are what a clinician
reads when a flow does not load.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.authoring import breadcrumb
from bot.errors import FlowError, FlowErrors
from bot.loader import load_bundle

ROOT = Path(__file__).resolve().parent.parent
BROKEN = "tests/flows/broken"
KNOWN_ACTIONS = (
    "add_own_activity, check_quiet_time, clear_answers, finish_check, pick_activities, "
    "record_checkin, "
    "record_consent, record_red_flag, schedule_reminder, track_checkin, withdraw_consent"
)

PINNED: dict[str, list[str]] = {
    "unknown_key.yaml": [
        "steps.welcome > buton: unknown key 'buton' (did you mean 'buttons'?)",
    ],
    "wrong_type.yaml": [
        "version: should be a whole number, like 3 (got 'one')",
    ],
    "unknown_step.yaml": [
        "steps.pain > buttons[2].go: unknown step 'pain_scor' (did you mean 'pain_score'?)",
    ],
    "unknown_flow.yaml": [
        "steps.welcome > buttons[0].go: unknown flow 'mnii' (did you mean 'mini'?)",
    ],
    "duplicate_step.yaml": [
        "line 11, column 3: 'bye' appears twice (first on line 8): each step id or key may "
        "be used once; rename or merge one of them",
    ],
    "unreachable_step.yaml": [
        "steps.stretches: unreachable: no button, next, branch or route leads here "
        "(link it or remove it)",
    ],
    "no_way_on.yaml": [
        "steps.bye: this step has no way on: add 'next', 'branch' or buttons, "
        "or mark it 'end: true'",
    ],
    "unsaved_answer.yaml": [
        "steps.pain > branch[0].if: no step saves an answer named 'pain_today' "
        "(did you mean 'pain_now'?)",
    ],
    "unknown_action.yaml": [
        "steps.welcome > do[0]: unknown action 'shedule_reminder' "
        f"(did you mean 'schedule_reminder'?); known actions: {KNOWN_ACTIONS}",
    ],
    "html_unclosed.yaml": [
        "steps.welcome > say: invalid Telegram HTML: <b> is never closed",
    ],
    "html_bad_tag.yaml": [
        "steps.welcome > say: invalid Telegram HTML: tag <br> is not allowed by Telegram",
    ],
    "text_too_long.yaml": [
        "steps.welcome > say: text is 4099 characters; Telegram allows 4096: split it into steps",
    ],
    "callback_too_long.yaml": [
        "steps.gentle_stretches_for_the_front_of_the_hi: button data "
        "'1:hip_impingement_exercises_for_beginners:1:gentle_stretches_for_the_front_of_the_hi:b0'"
        " is 87 bytes; Telegram allows 64: use a shorter step id or flow id",
    ],
    "too_many_buttons.yaml": [
        "steps.diary: 101 buttons is more than Telegram's 100: split them over several steps",
    ],
    "missing_en.yaml": [
        "steps.welcome > say: missing the 'en' text (found only ['de'])",
    ],
    "branch_default_not_last.yaml": [
        "steps.pain > branch[0]: only the last branch may leave out 'if' "
        "(later ones could never be reached)",
        "steps.pain > branch[1]: the last branch needs no 'if': it is where everyone else goes",
    ],
    "unknown_placeholder.yaml": [
        "steps.bye > say: unknown placeholder '{pian}' (did you mean 'pain'?)",
    ],
    "yaml_syntax.yaml": [
        "line 7, column 4: expected <block end>, but found '<block mapping start>' "
        "(check the indentation: keys of the same step must start in the same column)",
    ],
    "auto_loop.yaml": [
        "steps.learn: goes round in a circle without waiting for the person: "
        "learn -> more -> learn",
    ],
    "unquoted_yes.yaml": [
        "steps.ready > buttons[0].label: should be a text in quotes "
        "(got True: YAML reads yes, no, on and off without quotes as true or false)",
    ],
    "label_with_html.yaml": [
        "steps.welcome > buttons[0].label: '<b>': button labels are plain text and Telegram "
        "would show it as typed; write the label without HTML (& and < are fine)",
    ],
    "unknown_catalog.yaml": [
        "steps.tips > tips > catalog: unknown tips catalog 'daily_tip'; "
        "no file here starts with 'catalog:'",
    ],
}

# Broken folders: a flow that needs a second file (another flow, a tips catalog).
PINNED_FOLDERS: dict[str, list[tuple[str, str]]] = {
    "two_entries": [
        (
            "hip.yaml",
            "entry: only one flow may be the entry, found: "
            f"exercises ({BROKEN}/two_entries/exercises.yaml), "
            f"welcome ({BROKEN}/two_entries/hip.yaml)",
        ),
    ],
    "catalog_unknown_tag": [
        (
            "tips.yaml",
            "tips[0].tags: unknown tag 'siting' (did you mean 'sitting'?); declare it under 'tags'",
        ),
    ],
}


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in messages are the ones given, so give them relative to the repository."""
    monkeypatch.chdir(ROOT)


def problems_of(path: str) -> list[str]:
    with pytest.raises(FlowErrors) as caught:
        load_bundle([path])
    return [str(error) for error in caught.value.errors]


def test_every_broken_file_is_pinned() -> None:
    on_disk = {p.name for p in (ROOT / BROKEN).iterdir()}
    assert on_disk == set(PINNED) | set(PINNED_FOLDERS) | {"several_mistakes.yaml"}
    assert len(on_disk) >= 14


def located(path: str, message: str) -> str:
    """YAML syntax problems have a line instead of a breadcrumb."""
    return f"{path}: {message}" if message.startswith("line ") else f"{path} > {message}"


@pytest.mark.parametrize("name", sorted(PINNED))
def test_broken_file_reports_its_pinned_message(name: str) -> None:
    path = f"{BROKEN}/{name}"
    assert problems_of(path) == [located(path, message) for message in PINNED[name]]


@pytest.mark.parametrize("name", sorted(PINNED_FOLDERS))
def test_broken_folder_reports_its_pinned_message(name: str) -> None:
    folder = f"{BROKEN}/{name}"
    expected = [f"{folder}/{file} > {message}" for file, message in PINNED_FOLDERS[name]]
    assert problems_of(folder) == expected


def test_the_issue_example_reads_exactly_as_promised() -> None:
    assert problems_of(f"{BROKEN}/unknown_step.yaml") == [
        "tests/flows/broken/unknown_step.yaml > steps.pain > buttons[2].go: "
        "unknown step 'pain_scor' (did you mean 'pain_score'?)"
    ]


def test_yaml_mistakes_name_the_line() -> None:
    (duplicate,) = problems_of(f"{BROKEN}/duplicate_step.yaml")
    assert "line 11" in duplicate and "first on line 8" in duplicate and "'bye'" in duplicate
    (syntax,) = problems_of(f"{BROKEN}/yaml_syntax.yaml")
    assert syntax.startswith(f"{BROKEN}/yaml_syntax.yaml: line 7,")


def test_all_problems_of_a_file_are_reported_at_once() -> None:
    path = f"{BROKEN}/several_mistakes.yaml"
    assert sorted(problems_of(path)) == sorted(
        f"{path} > {message}"
        for message in [
            "steps.welcome > buttons[0].go: unknown step 'pain_scor' (did you mean 'pain_score'?)",
            "steps.welcome > say: invalid Telegram HTML: <b> is never closed",
            "steps.learn > do[0]: unknown action 'shedule_reminder' "
            f"(did you mean 'schedule_reminder'?); known actions: {KNOWN_ACTIONS}",
            "steps.learn: this step has no way on: add 'next', 'branch' or buttons, "
            "or mark it 'end: true'",
            "steps.bye > say: unknown placeholder '{pian}' (did you mean 'pain'?)",
            "steps.pain_score: unreachable: no button, next, branch or route leads here "
            "(link it or remove it)",
            "steps.bye: unreachable: no button, next, branch or route leads here "
            "(link it or remove it)",
        ]
    )


def test_problems_of_several_files_are_reported_together() -> None:
    paths = [f"{BROKEN}/unknown_key.yaml", f"{BROKEN}/html_unclosed.yaml"]
    with pytest.raises(FlowErrors) as caught:
        load_bundle(paths)
    files = {error.file for error in caught.value.errors}
    assert files == set(paths)


def test_each_problem_is_a_flow_error_with_file_and_path() -> None:
    with pytest.raises(FlowErrors) as caught:
        load_bundle([f"{BROKEN}/unknown_step.yaml"])
    (error,) = caught.value.errors
    assert isinstance(error, FlowError)
    assert error.file == f"{BROKEN}/unknown_step.yaml"
    assert error.path == "steps.pain > buttons[2].go"
    assert error.message.startswith("unknown step 'pain_scor'")


def test_visible_length_counts_text_without_tags(tmp_path: Path) -> None:
    """4096 visible characters are fine even when the tags make the raw text longer."""
    text = "<b>" + "a" * 4096 + "</b>"
    (tmp_path / "long.yaml").write_text(
        f'flow: mini\nversion: 1\nstart: w\nsteps:\n  w:\n    say: "{text}"\n    end: true\n'
    )
    assert load_bundle([tmp_path]).flows["mini"].steps["w"].say[0].text.get("en") == text


def test_callback_data_of_64_bytes_is_accepted(tmp_path: Path) -> None:
    # "1:" + flow + ":1:" + step + ":b0" is 10 bytes plus the two ids
    flow, step = "f" * 20, "s" * 34
    (tmp_path / "edge.yaml").write_text(
        f"flow: {flow}\nversion: 1\nstart: {step}\nsteps:\n  {step}:\n    say: hi\n"
        "    buttons: [{label: Again, go: " + step + "}]\n"
    )
    assert step in load_bundle([tmp_path]).flows[flow].steps


def test_no_yaml_files_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(FlowErrors, match=r"no \.yaml files found"):
        load_bundle([tmp_path])


def test_breadcrumb_format() -> None:
    assert breadcrumb(("steps", "pain", "buttons", 2, "go")) == "steps.pain > buttons[2].go"
    assert breadcrumb(("routes", 0, "description")) == "routes[0].description"
    assert breadcrumb(("moved", "old")) == "moved.old"


def test_good_flows_load() -> None:
    bundle = load_bundle(["tests/flows/good"])
    assert bundle.entry == "mini"
    assert "mini_tips" in bundle.catalogs


def run_validate(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "validate", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", sorted([*PINNED, *PINNED_FOLDERS, "several_mistakes.yaml"]))
def test_cli_validate_exits_1_with_the_pinned_message(name: str) -> None:
    path = f"{BROKEN}/{name}"
    result = run_validate(path)
    assert result.returncode == 1
    expected = problems_of(path)
    assert result.stderr.splitlines()[: len(expected)] == expected
    assert result.stderr.endswith(f"\n{len(expected)} problem(s) found.\n")
    assert result.stdout == ""


def test_cli_validate_good_flows_exits_0() -> None:
    # the fixture is English only; translations are required in tests/test_translations.py
    result = run_validate("--languages", "en", "tests/flows/good")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ")
