"""The import graph of the project's own modules (tests and migrations aside): no cycles, counting imports inside
functions; Celery only in the jobs layer (bugsink/jobs.py, bugsink/celery.py) and the thin `tasks.py` modules; no
import inside a function unless it must wait for something (Django's app registry, the settings of a script)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = (
    "accounts",
    "alerts",
    "api",
    "artifacts",
    "bugsink",
    "events",
    "ingest",
    "issues",
    "projects",
    "releases",
    "tags",
)
CELERY_ALLOWED = {"bugsink.jobs", "bugsink.celery"}
# imports that wait on purpose: an AppConfig.ready (the ingest app's gives the jobs layer its store's count), a
# script that sets DJANGO_SETTINGS_MODULE first, test helpers that import models only once Django is set up
LATE_IMPORTS_ALLOWED = {
    ("accounts.apps", "ready"),
    ("ingest.apps", "ready"),
    ("bugsink.webserver", "main"),
    ("bugsink.testutils", "make_issue"),
}


def modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            name = ".".join(relative.with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path):
    """(imported module, enclosing function or None) for every import statement of the file."""
    tree = ast.parse(path.read_text())

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, function
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                yield child.module, function
                for alias in child.names:
                    yield f"{child.module}.{alias.name}", function
            yield from visit(child, function)

    return list(visit(tree, None))


def project_graph() -> dict[str, set[str]]:
    known = modules()
    graph = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imports(path):
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), iteratively."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles():
    assert cycles(project_graph()) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_celery_only_in_the_jobs_layer_and_tasks_modules():
    offenders = [
        name
        for name, path in modules().items()
        if any(target.split(".")[0] == "celery" for target, _ in imports(path))
        and name not in CELERY_ALLOWED
        and not name.endswith(".tasks")
    ]
    assert offenders == []


def test_tasks_modules_are_thin():
    """A task unwraps its arguments and calls one domain function: one statement, a return of one call."""
    for name, path in modules().items():
        if not name.endswith(".tasks"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                body = [n for n in node.body if not isinstance(n, ast.Expr) or not isinstance(n.value, ast.Constant)]
                assert len(body) == 1 and isinstance(body[0], ast.Return), f"{name}.{node.name}"
                assert isinstance(body[0].value, ast.Call | ast.Attribute), f"{name}.{node.name}"


def test_no_late_imports_of_our_own_modules():
    known = modules()
    late = [
        (name, function, target)
        for name, path in known.items()
        for target, function in imports(path)
        if function is not None and target.split(".")[0] in APPS and (name, function) not in LATE_IMPORTS_ALLOWED
    ]
    assert late == []
