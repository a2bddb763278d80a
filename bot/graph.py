"""``hipbot graph``: a flow as a Mermaid ``stateDiagram-v2``."""

from __future__ import annotations

import re

from bot.model import Flow, Target

_TAG = re.compile(r"<[^>]+>")
_UNSAFE = re.compile(r"[:;#{}\[\]<>\"`]")
# Words Mermaid's state diagram grammar reads as keywords; a step with such an id is drawn
# under another node name (found with Mermaid's own parser, see tests/mermaid/).
_KEYWORDS = frozenset(
    {"note", "state", "class", "classdef", "style", "click", "default", "scale", "href", "end"}
)


def _label(text: str, limit: int = 40) -> str:
    plain = _UNSAFE.sub(" ", _TAG.sub("", text))
    plain = " ".join(plain.split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def _name(step_id: str) -> str:
    return f"step_{step_id}" if step_id.casefold() in _KEYWORDS else step_id


def _node(flow: Flow, target: Target) -> str:
    if target.flow == flow.id:
        return _name(target.step or flow.start)
    return f"{target.flow}__{target.step or 'start'}"


def mermaid(flow: Flow) -> str:
    lines = ["stateDiagram-v2", f"    %% flow {flow.id} version {flow.version}"]
    lines += [
        f'    state "{step_id}" as {_name(step_id)}'
        for step_id in flow.steps
        if _name(step_id) != step_id
    ]
    lines.append(f"    [*] --> {_name(flow.start)}")
    outside: set[str] = set()
    for step in flow.steps.values():
        edges: list[tuple[Target, str]] = []
        edges += [(button.go, button.label.get("en")) for button in step.buttons]
        if step.input is not None and step.next is not None:
            edges.append((step.next, f"answer saved as {step.input.save}"))
        elif step.next is not None:
            edges.append((step.next, ""))
        for index, branch in enumerate(step.branches):
            edges.append(
                (branch.go, "otherwise" if branch.condition is None else f"if {index + 1}")
            )
        for target, label in edges:
            node = _node(flow, target)
            if target.flow != flow.id:
                outside.add(node)
            text = _label(label)
            lines.append(f"    {_name(step.id)} --> {node}" + (f" : {text}" if text else ""))
        if step.end:
            lines.append(f"    {_name(step.id)} --> [*]")
    for route in flow.routes:
        name = f"route_{route.command}"
        lines.append(f'    state "any step /{route.command}" as {name}')
        lines.append(f"    {name} --> {_node(flow, route.go)}")
    for node in sorted(outside):
        other, _, step_id = node.partition("__")
        lines.append(f'    state "{other} flow, {step_id}" as {node}')
    return "\n".join(lines) + "\n"
