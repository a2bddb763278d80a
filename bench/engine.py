"""``python -m bench engine``: what one event costs the engine, next to raw ``transitions``.

- ``median_us_per_event``: ``Engine.handle`` per event over a scripted walk of the shipped
  flow: every action of its transcript tests (flows/transcripts/), replayed from the
  session each one started from. Falls back to tests/flows/good when flows/ does not load.
- ``raw_transitions_us``: one trigger of a static ``transitions.Machine`` with the same
  options and number of states as the walked flow, on a model object that is not bound to
  it (the cheapest pattern in design.md), measured in the same run.
- ``ratio``: the first over the second. Target: ratio <= 3 and median <= 50 µs.
- ``validate_ms``: loading and checking flows/ (``hipbot validate``), median of a few runs.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from transitions import Machine

import bot.kinds  # noqa: F401  registers the document kinds, as bot.cli does
from bench import median, percentile, report
from bot.conversation import ButtonNotOffered, Conversation, parse_input
from bot.engine import Engine
from bot.errors import FlowErrors
from bot.loader import load_bundle
from bot.model import Bundle, Event, Session
from bot.storage import MemoryStorage
from bot.transcripts import load_transcripts

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "flows"
FALLBACK = ROOT / "tests" / "flows" / "good"
TARGET_RATIO = 3.0
TARGET_MEDIAN_US = 50.0
MIN_SAMPLES = 20_000
VALIDATE_RUNS = 5

Walk = list[tuple[Session | None, Event]]


def scripted_walk(bundle: Bundle, folder: Path) -> Walk:
    """Every send and click of the folder's transcripts, with the session it started from."""
    walk: Walk = []
    for _, doc in load_transcripts([folder]):
        chat = Conversation(Engine(bundle, doc.config), MemoryStorage(), doc.user)
        for line in doc.steps:
            try:
                if line.send is not None:  # a per-language send: the transcript's first language
                    sent = line.send
                    event = parse_input(sent if isinstance(sent, str) else sent[doc.spoken()[0]])
                elif line.click is not None:
                    event = chat.button_event(line.click)
                else:
                    continue  # a restart replays nothing new
            except ButtonNotOffered:
                break  # a failing transcript: keep what was walked so far
            walk.append((chat.session, event))
            chat.handle(event)
    return walk


class _Unbound:
    """A model object the machine never hears of, like the engine's cursor."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def static_machine(states: int) -> Machine:
    """A ring of ``states`` states with one ``advance`` trigger, the engine's options."""
    names = [f"s{i}" for i in range(states)]
    return Machine(
        model=None,
        states=names,
        transitions=[
            {"trigger": "advance", "source": name, "dest": names[(i + 1) % states]}
            for i, name in enumerate(names)
        ],
        initial=names[0],
        auto_transitions=False,
        ignore_invalid_triggers=True,
        send_event=True,
    )


def measure(engine: Engine, walk: Walk, machine: Machine) -> tuple[list[float], list[float]]:
    """Per-event engine times and per-trigger raw times, in µs, taken in alternating rounds
    so that both see the same machine load."""
    trigger = machine.events["advance"].trigger
    model = _Unbound("s0")
    clock = time.perf_counter_ns
    for session, event in walk:  # warm up both
        engine.handle(session, event, "bench")
        trigger(model)
    events: list[float] = []
    raw: list[float] = []
    gc.collect()
    while len(events) < MIN_SAMPLES:
        for session, event in walk:
            start = clock()
            engine.handle(session, event, "bench")
            events.append((clock() - start) / 1000)
        for _ in walk:
            start = clock()
            trigger(model)
            raw.append((clock() - start) / 1000)
    assert not machine.models, "the raw machine must stay unbound"
    return events, raw


def validate_ms(folder: Path) -> tuple[float, bool]:
    runs, valid = [], True
    for _ in range(VALIDATE_RUNS):
        start = time.perf_counter()
        try:
            load_bundle([folder])
        except FlowErrors:
            valid = False
        runs.append((time.perf_counter() - start) * 1000)
    return median(runs), valid


def run(json: bool = False) -> int:
    checked_ms, shipped_valid = validate_ms(SHIPPED)
    folder = SHIPPED if shipped_valid else FALLBACK
    bundle = load_bundle([folder])
    walk = scripted_walk(bundle, folder)
    if not walk:
        print(f"no transcript actions to replay under {folder}")
        return 1
    engine = Engine(bundle)
    states = max(len(flow.steps) for flow in bundle.flows.values())
    events, raw = measure(engine, walk, static_machine(states))
    per_event, raw_us = median(events), median(raw)
    ratio = per_event / raw_us
    result = {
        "median_us_per_event": round(per_event, 2),
        "p90_us_per_event": round(percentile(events, 0.9), 2),
        "raw_transitions_us": round(raw_us, 2),
        "ratio": round(ratio, 2),
        "validate_ms": round(checked_ms, 1),
        "flows": str(folder.relative_to(ROOT)),
        "flows_valid": shipped_valid,
        "walk_events": len(walk),
        "samples": len(events),
        "states": states,
        "target_met": ratio <= TARGET_RATIO and per_event <= TARGET_MEDIAN_US,
    }
    mark = "ok" if result["target_met"] else "OFF TARGET"
    rows = [
        ("median_us_per_event", f"{per_event:.1f} µs", f"target <= {TARGET_MEDIAN_US:.0f} µs"),
        ("p90_us_per_event", f"{result['p90_us_per_event']:.1f} µs", ""),
        ("raw_transitions_us", f"{raw_us:.1f} µs", f"static Machine, {states} states, unbound"),
        ("ratio", f"{ratio:.2f}", f"target <= {TARGET_RATIO:.0f}: {mark}"),
        ("validate_ms", f"{checked_ms:.1f} ms", "flows/" + ("" if shipped_valid else " (INVALID)")),
        (
            "walk",
            f"{len(walk)} events",
            f"from {result['flows']}/transcripts, x{len(events) // len(walk)}",
        ),
    ]
    report("bench engine: Engine.handle per event", rows, result, json)
    return 0
