"""`values_of` reads the lists of an event (exceptions, threads, breadcrumbs) for normalization and for the pages:
one function, in events.safe, whichever shape an SDK or an older stored event used."""

import ast
from pathlib import Path

from events.safe import values_of

ROOT = Path(__file__).resolve().parent.parent.parent


def test_values_of_reads_both_shapes_and_drops_what_is_not_an_entry():
    entries = [{"type": "ValueError"}, None, "text", 3, {"type": "KeyError"}]
    assert values_of({"values": entries}) == [{"type": "ValueError"}, {"type": "KeyError"}]
    assert values_of(entries) == [{"type": "ValueError"}, {"type": "KeyError"}]
    for nothing in (None, {}, {"values": None}, {"values": {"type": "x"}}, "values", 7, {"other": [{}]}):
        assert values_of(nothing) == []


def test_values_of_is_defined_once_in_the_project():
    definitions = []
    for path in ROOT.rglob("*.py"):
        if {".venv", "node_modules", "tests"} & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "values_of":
                definitions.append(str(path.relative_to(ROOT)))
    assert definitions == ["events/safe.py"]
