"""The import graph of the project's own modules (tests and migrations aside): no cycles, counting imports inside
functions; Celery only in the jobs layer (bugsink/jobs.py, bugsink/celery.py); `tasks.py` modules only import; no
import inside a function unless it must wait for something (Django's app registry, the settings of a script).

The apps are read from INSTALLED_APPS (plus `bugsink`, the project package), never listed here; each guard is also
run on a small planted tree with one violation and must fail there (`test_guards_fail_on_planted_violations`)."""

import ast
import configparser
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent


def our_apps(root: Path = ROOT) -> tuple[str, ...]:
    """The project's own apps: the INSTALLED_APPS that are folders of this repository, and `bugsink` itself."""
    local = [label for label in settings.INSTALLED_APPS if "." not in label and (root / label).is_dir()]
    return tuple(sorted({*local, "bugsink"}))


APPS = our_apps()
CELERY_ALLOWED = {"bugsink.jobs", "bugsink.celery", "bugsink.worker"}  # the app, the jobs, the workers' launcher
# imports that wait on purpose: an AppConfig.ready (the digest app's gives the jobs layer the ingest store's count), a
# script that sets DJANGO_SETTINGS_MODULE first
LATE_IMPORTS_ALLOWED = {
    ("accounts.apps", "ready"),
    ("digest.apps", "ready"),
    ("health.apps", "ready"),  # registers its streams with ingest.item_streams once models can be imported
    ("monitors.apps", "ready"),
    ("monitors.apps", "_digest_checkins"),  # check-in digest reaches digest.batch: loaded where check-ins digest
    ("digest.job", "digest_job"),  # the job's handle without the pipeline: digest.batch loads where a digest runs
    # the periodic check reads; the judging (and the digest before it) loads where a project's writer judges
    ("monitors.deadlines", "judge_project_deadlines"),
    ("monitors.deadlines", "judge_deadlines"),
    ("logs.apps", "ready"),
    ("bugsink.webserver", "main"),
    ("accounts.middleware", "__call__"),  # REQUIRE_2FA's checks load allauth's MFA on the first page that needs them
}


def modules(root: Path = ROOT, apps=APPS) -> dict[str, Path]:
    found = {}
    for app in apps:
        for path in (root / app).rglob("*.py"):
            relative = path.relative_to(root)
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
                yield from visit(child, child.name)
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


def project_graph(root: Path = ROOT, apps=APPS) -> dict[str, set[str]]:
    known = modules(root, apps)
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


def celery_offenders(root: Path = ROOT, apps=APPS) -> list[str]:
    return [
        name
        for name, path in modules(root, apps).items()
        if any(target.split(".")[0] == "celery" for target, _ in imports(path)) and name not in CELERY_ALLOWED
    ]


def fat_tasks(root: Path = ROOT, apps=APPS) -> list[str]:
    """A tasks module only imports the modules that declare its app's jobs (bugsink.jobs.job, next to their work):
    a function or any other statement there is a job, or work, in the wrong place."""
    fat = []
    for name, path in modules(root, apps).items():
        if not name.endswith(".tasks"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # the docstring
            fat.append(f"{name}.{getattr(node, 'name', node.__class__.__name__)}")
    return fat


def late_imports(root: Path = ROOT, apps=APPS) -> list[tuple[str, str, str]]:
    return [
        (name, function, target)
        for name, path in modules(root, apps).items()
        for target, function in imports(path)
        if function is not None and target.split(".")[0] in apps and (name, function) not in LATE_IMPORTS_ALLOWED
    ]


# Imports that point up, and once did: (importing modules' prefix, imported modules' prefix). A prefix is an app
# or a module path; each rule covers every module under it, and imports inside functions count.
NEVER = [
    ("events", "ingest"),  # stored events are read without digest's code (events.levels, events.trimmed)
    ("projects", "events"),  # the project's scrubbing settings are its own text (projects.scrub_settings)
    ("projects", "issues"),  # issue access is issues.access; the project list is bugsink.overview
    ("projects", "ingest"),
    ("issues.views", "digest.trim"),
    ("releases", "artifacts"),  # deleting a release with its uploads is artifacts.release_deletion
    # intake and digest meet at the ingest store and the digest job: digest never reads the HTTP side, and intake
    # runs none of the pipeline's steps itself
    *[("digest", f"ingest.{m}") for m in ("views", "urls", "fastpath", "auth", "envelope", "streams", "quota")],
    *[("ingest", f"digest.{m}") for m in ("normalize", "grouping", "symbolicate", "trim", "useragent", "registry")],
]


def never_violations(root: Path = ROOT, apps=APPS, rules=None) -> list[tuple[str, str]]:
    def under(name: str, prefix: str) -> bool:
        return name == prefix or name.startswith(prefix + ".")

    found = []
    for name, path in modules(root, apps).items():
        for target, _ in imports(path):
            for source, forbidden in NEVER if rules is None else rules:
                if under(name, source) and under(target, forbidden):
                    found.append((name, target))
    return sorted(set(found))


def test_no_import_points_up_where_it_never_may():
    assert never_violations() == []


def test_no_import_cycles():
    assert cycles(project_graph()) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_celery_only_in_the_jobs_layer():
    assert celery_offenders() == []


def test_tasks_modules_only_import_the_modules_that_declare_jobs():
    assert fat_tasks() == []


def test_no_late_imports_of_our_own_modules():
    assert late_imports() == []


def test_every_app_is_seen_and_collected():
    # the app list comes from INSTALLED_APPS, so an app added there is guarded; blobs was once missing
    assert {"blobs", "artifacts", "api", "ingest", "bugsink"} <= set(APPS)
    assert {"bugsink.jobs", "blobs.models", "digest.batch"} <= set(modules())
    # pytest collects from the repository's root, not from a list of apps that can fall behind (it once left the
    # tests of three apps out): every folder of tests belongs to one of our apps
    ini = configparser.ConfigParser()
    ini.read(ROOT / "pytest.ini")
    assert not ini.has_option("pytest", "testpaths")
    test_folders = {path.relative_to(ROOT).parts[0] for path in ROOT.glob("*/tests/test_*.py")}
    assert test_folders <= set(APPS)


def test_the_readme_folder_table_names_every_app():
    """The README's architecture table (| `folder/` | owns |) lists exactly our apps."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| folder | owns |") :].split("\n\n", 1)[0]
    listed = {line.split("`")[1].rstrip("/") for line in table.splitlines() if line.startswith("| `")}
    assert listed == set(APPS)


PLANTED_APPS = ("alpha", "beta", "bugsink")


def plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in {
        "alpha/__init__.py": "",
        "beta/__init__.py": "",
        "bugsink/__init__.py": "",
        "bugsink/jobs.py": "import celery\n",
        "alpha/tasks.py": '"""Its jobs."""\n\nfrom alpha import domain  # noqa: F401\n',
        "alpha/domain.py": "def run(x):\n    return x\n",
        **files,
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("guard", "files", "finding"),
    [
        # a late upward import in a function body: the bug of the old visitor, which never looked inside functions
        (late_imports, {"alpha/safe.py": "def f():\n    from beta import views\n"}, ("alpha.safe", "f", "beta")),
        # a cycle that exists only through an import inside a function
        (
            lambda root, apps: cycles(project_graph(root, apps)),
            {"alpha/a.py": "import beta.b\n", "beta/b.py": "def g():\n    import alpha.a\n"},
            ["alpha.a", "beta.b"],
        ),
        (celery_offenders, {"beta/worker.py": "from celery import shared_task\n"}, "beta.worker"),
        (celery_offenders, {"beta/tasks.py": "from celery import shared_task\n"}, "beta.tasks"),
        (fat_tasks, {"beta/tasks.py": "def run(x):\n    return x\n"}, "beta.tasks.run"),
        # a pure module of a lower app reaching up, late, inside a function
        (
            lambda root, apps: never_violations(root, apps, rules=[("alpha", "beta")]),
            {"alpha/pure.py": "def f():\n    from beta import views\n"},
            ("alpha.pure", "beta"),
        ),
    ],
    ids=["late-import", "cycle-through-function", "celery-outside-jobs", "celery-in-tasks", "fat-task", "never-rule"],
)
def test_guards_fail_on_planted_violations(tmp_path, guard, files, finding):
    clean = plant(tmp_path / "clean", {})
    assert not guard(clean, PLANTED_APPS)
    planted = plant(tmp_path / "planted", files)
    assert finding in guard(planted, PLANTED_APPS)
