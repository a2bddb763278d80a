"""The ``hipbot`` command line, run as a person runs it: in a subprocess."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.graph import mermaid
from bot.loader import load_bundle

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "tests" / "flows" / "good"
MERMAID = ROOT / "tests" / "mermaid"


def hipbot(
    *args: str, stdin: str = "", cwd: Path = ROOT, timeout: float = 60, **given: str
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HIPBOT_", "TELEGRAM_")) and key != "DATABASE_URL"
    } | given
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# ---------------------------------------------------------------- graph

# Every statement `hipbot graph` may print, and nothing else.
NODE = r"(?:[a-z][a-z0-9_]*|\[\*\])"
STATEMENTS = [
    re.compile(r"stateDiagram-v2"),
    re.compile(r"    %% .*"),
    re.compile(rf"    {NODE} --> {NODE}(?: : [^:;#{{}}\[\]<>\"`]+)?"),
    re.compile(r'    state "[^"]+" as [a-z][a-z0-9_]*'),
]
KEYWORDS = {"note", "state", "class", "classdef", "style", "click", "default", "scale", "href"}


def structure_problems(diagram: str) -> list[str]:
    """A strict check of the shape of the diagram, independent of Mermaid's own parser."""
    lines = diagram.splitlines()
    problems = [] if lines[:1] == ["stateDiagram-v2"] else ["the first line must be the type"]
    declared: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not any(pattern.fullmatch(line) for pattern in STATEMENTS):
            problems.append(f"line {number} is not a statement Mermaid knows: {line!r}")
        if match := re.fullmatch(r'    state "[^"]+" as (\S+)', line):
            declared.add(match.group(1))
        for node in re.findall(rf"(?<![\w\]]){NODE}(?= -->)|(?<=--> ){NODE}", line):
            if node.casefold() in KEYWORDS:
                problems.append(f"line {number} uses the keyword {node!r} as a node")
    return problems


def test_graph_prints_a_state_diagram_of_the_flow() -> None:
    result = hipbot("graph", "mini", "--flows", str(GOOD))
    assert result.returncode == 0, result.stderr
    diagram = result.stdout
    assert structure_problems(diagram) == []
    assert "    [*] --> welcome\n" in diagram
    assert "    menu --> age : Check\n" in diagram
    assert "    menu --> extra__start : Exercises\n" in diagram
    assert '    state "extra flow, start" as extra__start\n' in diagram
    assert "    age --> too_young : if 1\n" in diagram
    assert "    age --> pain : otherwise\n" in diagram
    assert "    summary --> [*]\n" in diagram
    assert '    state "any step /menu" as route_menu\n' in diagram
    # every step of the flow is drawn
    flow = load_bundle([GOOD]).flows["mini"]
    for step_id in flow.steps:
        assert re.search(rf"^    {step_id} -->", diagram, re.MULTILINE), step_id


def test_graph_out_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "mini.mmd"
    result = hipbot("graph", "mini", "--flows", str(GOOD), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("stateDiagram-v2\n")


def test_graph_of_an_unknown_flow_names_the_known_ones() -> None:
    result = hipbot("graph", "hipp", "--flows", str(GOOD))
    assert result.returncode == 1
    assert "no flow named 'hipp'; flows: extra, mini" in result.stderr


KEYWORD_FLOW = """\
flow: kw
version: 1
start: note
routes:
  - {command: menu, go: "kw:"}
steps:
  note:
    say: "Hi"
    buttons:
      - {label: "State & class -> x --> y; 50% (ok) #1 [b] \\"q\\"", go: state}
      - {label: "Default", go: default}
      - {label: "Again", go: "kw:"}
  state: {say: x, next: class}
  class: {say: x, next: style}
  style: {say: x, next: scale}
  scale: {say: x, next: click}
  click: {say: x, next: href}
  href: {say: x, next: classdef}
  classdef: {say: x, next: default}
  default: {say: x, end: true}
"""


@pytest.fixture(scope="session")
def tricky_diagram(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Step ids that are Mermaid keywords, a label full of Mermaid's punctuation."""
    folder = tmp_path_factory.mktemp("kw")
    (folder / "kw.yaml").write_text(KEYWORD_FLOW)
    return mermaid(load_bundle([folder]).flows["kw"])


def test_graph_keeps_mermaid_keywords_out_of_node_names(tricky_diagram: str) -> None:
    assert structure_problems(tricky_diagram) == []
    assert '    state "note" as step_note\n' in tricky_diagram
    assert "    step_note --> step_note : Again\n" in tricky_diagram


@pytest.fixture(scope="session")
def mermaid_check() -> list[str]:
    """`node check.mjs` with Mermaid installed from tests/mermaid/package-lock.json.

    Installed once per lock file into a cache folder; skipped only when node is missing.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: cannot run Mermaid's own parser")
    lock = (MERMAID / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = cache / "hipbot" / f"mermaid-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not (folder / "node_modules" / "mermaid" / "package.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(MERMAID / name, folder / name)
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert install.returncode == 0, f"npm ci failed:\n{install.stderr[-2000:]}"
    shutil.copy(MERMAID / "check.mjs", folder / "check.mjs")
    return [node, str(folder / "check.mjs")]


def parse_with_mermaid(check: list[str], *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*check, *map(str, files)], capture_output=True, text=True, timeout=120, check=False
    )


def test_mermaid_itself_accepts_the_diagrams(
    mermaid_check: list[str], tricky_diagram: str, tmp_path: Path
) -> None:
    files = {"mini": tmp_path / "mini.mmd", "kw": tmp_path / "kw.mmd"}
    files["mini"].write_text(hipbot("graph", "mini", "--flows", str(GOOD)).stdout)
    files["kw"].write_text(tricky_diagram)
    shipped = hipbot("graph", "hip", "--flows", str(ROOT / "flows"))
    if shipped.returncode == 0:  # flows/ is content work in progress; check it when it loads
        files["hip"] = tmp_path / "hip.mmd"
        files["hip"].write_text(shipped.stdout)
    result = parse_with_mermaid(mermaid_check, *files.values())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" stateDiagram") == len(files)


def test_mermaid_check_rejects_a_broken_diagram(mermaid_check: list[str], tmp_path: Path) -> None:
    """The checker must be able to fail: a step called 'note' breaks Mermaid's grammar."""
    bad = tmp_path / "bad.mmd"
    bad.write_text("stateDiagram-v2\n    [*] --> note\n    note --> b\n")
    result = parse_with_mermaid(mermaid_check, bad)
    assert result.returncode == 1
    assert f"FAIL {bad}: Parse error" in result.stdout


# ---------------------------------------------------------------- chat


CONVERSATION = "Check\nyes\n7\n"  # the menu's button by its words, a typed answer, a scale


def test_piped_chat_completes_and_a_second_run_resumes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    first = hipbot("chat", "--flows", str(GOOD), "--db", db, stdin=CONVERSATION, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "bot> What would you like?" in out
    assert "  [1] Check\n  [2] Help me\n  [3] Exercises\n" in out
    assert "you> yes" in out
    assert "bot> What hurts?" in out  # the last answer went through
    assert out.rstrip().endswith("Run hipbot chat again to carry on where you left off.")
    assert first.stderr == ""

    second = hipbot("chat", "--flows", str(GOOD), "--db", db, stdin="", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    shown = second.stdout.split("bot> ", 1)[1]
    assert shown.startswith("What hurts?")
    assert "Hello!" not in second.stdout  # not started again
    assert "[4] Done" in shown

    third = hipbot("chat", "--flows", str(GOOD), "--db", db, stdin="1\n4\n18:30\n", cwd=tmp_path)
    assert "bot> Which side?" in third.stdout


def test_chat_users_are_separate(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    hipbot("chat", "--flows", str(GOOD), "--db", db, stdin="Check\n", cwd=tmp_path)
    other = hipbot("chat", "--flows", str(GOOD), "--db", db, "--user", "ana", cwd=tmp_path)
    assert "bot> Hello! Emergency: 112" in other.stdout


def test_chat_commands_and_numbers(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = hipbot(
        "chat", "--flows", str(GOOD), "--db", db, stdin="2\n/menu\n/nope\n", cwd=tmp_path
    )
    assert result.returncode == 0
    out = result.stdout
    assert "bot> Tap a button or type /menu." in out
    assert out.count("bot> What would you like?") >= 2
    assert "bot> Sorry, I don't know that command." in out


def test_chat_with_broken_flows_exits_1(tmp_path: Path) -> None:
    broken = ROOT / "tests" / "flows" / "broken" / "unknown_step.yaml"
    result = hipbot("chat", "--flows", str(broken), "--db", "memory://", cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown step 'pain_scor'" in result.stderr


# ---------------------------------------------------------------- transcripts


def test_transcripts_pass_and_show_coverage() -> None:
    result = hipbot("test", str(GOOD))
    assert result.returncode == 0, result.stdout
    assert "PASS  a symptom check with high pain" in result.stdout
    assert "2 passed, 0 failed" in result.stdout
    assert "step coverage: 100% (13 of 13 steps)" in result.stdout


FAILING = """\
transcript: wrong expectations
steps:
  - send: /start
    expect: What would you like?

  - click: Check
    expect: Are you over 18?
  - click: Maybe
"""


def test_a_failing_transcript_exits_1_and_names_the_line(tmp_path: Path) -> None:
    for flow in GOOD.glob("*.yaml"):
        shutil.copy(flow, tmp_path / flow.name)
    (tmp_path / "failing.yaml").write_text(FAILING)
    result = hipbot("test", str(tmp_path))
    assert result.returncode == 1
    out = result.stdout
    assert f"FAIL  wrong expectations  ({tmp_path / 'failing.yaml'})" in out
    assert (
        "      line 6 (click 'Check'): expected 'Are you over 18?' in the reply, "
        "got: Are you 16 or older?\n"
    ) in out
    assert (
        "      line 8 (click 'Maybe'): no button 'Maybe' is offered; offered: 'Yes', 'No'\n" in out
    )
    assert "0 passed, 1 failed" in out
    assert "steps no transcript reaches: extra:intro, extra:remind" in out


def test_transcripts_with_broken_flows_exit_1(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "flows" / "broken" / "unknown_step.yaml", tmp_path)
    (tmp_path / "t.yaml").write_text("transcript: t\nsteps:\n  - send: /start\n")
    result = hipbot("test", str(tmp_path))
    assert result.returncode == 1
    assert "unknown step 'pain_scor'" in result.stdout


# ---------------------------------------------------------------- validate


def test_validate_good_and_broken() -> None:
    good = hipbot("validate", "--languages", "en", str(GOOD))  # an English-only fixture
    assert good.returncode == 0
    assert good.stdout.startswith("OK: 2 flow(s), 13 steps, 1 catalog(s), 3 tips")
    broken = hipbot("validate", "tests/flows/broken/unknown_step.yaml")
    assert broken.returncode == 1
    assert broken.stderr.startswith(
        "tests/flows/broken/unknown_step.yaml > steps.pain > buttons[2].go: "
        "unknown step 'pain_scor' (did you mean 'pain_score'?)\n"
    )


# ---------------------------------------------------------------- operators' commands


def test_help_lists_every_command_on_one_line_in_plain_words() -> None:
    result = hipbot("--help")
    assert result.returncode == 0
    commands = "run chat validate lint graph test doctor db clinic staff broadcast purge keys"
    commands += " alerts reminders"
    lines = result.stdout.splitlines()
    for name in commands.split():
        line = next((x for x in lines if x.split()[:1] == [name]), None)
        assert line is not None and len(line.split()) > 2, f"{name} has no one-line description"
    assert "``" not in result.stdout and "run | chat" not in result.stdout


def _clinic_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ops.db'}",
        "HIPBOT_DATA_DIR": str(tmp_path / "d"),
    }


def test_clinic_link_without_out_writes_the_qr_code_into_the_data_folder(tmp_path: Path) -> None:
    env = _clinic_env(tmp_path)
    assert hipbot("clinic", "add", "Hip Clinic", cwd=tmp_path, **env).returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    result = hipbot("clinic", "link", "1", "--bot", "HipHelpBot", cwd=work, **env)
    assert result.returncode == 0, result.stderr
    png = tmp_path / "d" / "clinic-1.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert f"QR code: {png}" in result.stdout
    assert list(work.iterdir()) == []


def test_a_clinic_name_is_unique_and_an_ambiguous_name_is_an_error(tmp_path: Path) -> None:
    env = _clinic_env(tmp_path)
    assert hipbot("clinic", "add", "Hip Clinic", cwd=tmp_path, **env).returncode == 0
    again = hipbot("clinic", "add", "  hip   clinic ", cwd=tmp_path, **env)
    assert again.returncode == 1
    assert "clinic 1 is already named 'Hip Clinic'" in again.stderr
    # two clinics that share a name (made before names were unique): no silent first pick
    from bot.features.clinics.store import ClinicStore
    from bot.storage import SqlStorage

    storage = SqlStorage(str(tmp_path / "ops.db"))
    ClinicStore(storage.db).add_clinic("Hip Clinic", 0.0)
    storage.close()
    for args in (["staff", "list", "Hip Clinic"], ["alerts", "on", "Hip Clinic"]):
        result = hipbot(*args, cwd=tmp_path, **env)
        assert result.returncode == 1, args
        assert "2 clinics are named 'Hip Clinic' (ids 1, 2): give the id instead" in result.stderr
    assert hipbot("staff", "list", "2", cwd=tmp_path, **env).returncode == 0


def test_alerts_list_for_one_clinic_and_an_empty_staff_list_say_so(tmp_path: Path) -> None:
    env = _clinic_env(tmp_path)
    empty = hipbot("staff", "list", cwd=tmp_path, **env)
    assert empty.returncode == 0 and "no clinics yet" in empty.stdout
    hipbot("clinic", "add", "Hip Clinic", cwd=tmp_path, **env)
    hipbot("clinic", "add", "Knee Clinic", cwd=tmp_path, **env)
    assert hipbot("alerts", "on", "2", cwd=tmp_path, **env).returncode == 0
    off = hipbot("alerts", "list", "1", cwd=tmp_path, **env)
    assert off.returncode == 0
    assert off.stdout.strip() == "clinic 1: red-flag alerts off (turn on: hipbot alerts on 1)"
    on = hipbot("alerts", "list", "Knee Clinic", cwd=tmp_path, **env)
    assert on.stdout.startswith("clinic 2: alerts on since ")
    one = hipbot("staff", "list", "1", cwd=tmp_path, **env)
    assert one.stdout.strip() == (
        "clinic 1 (Hip Clinic) has no staff yet: hipbot staff add 1 TELEGRAM_USER_ID --role admin"
    )
    every = hipbot("staff", "list", cwd=tmp_path, **env)
    assert every.stdout.startswith("no clinic has staff yet")
    hipbot("staff", "add", "2", "42", "--role", "editor", cwd=tmp_path, **env)
    assert hipbot("staff", "list", cwd=tmp_path, **env).stdout == "2\tKnee Clinic\t42\teditor\n"
