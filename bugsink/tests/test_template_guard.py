"""A guard for the Content-Security-Policy (bugsink.csp): no template, and no HTML that Python code builds, may hold
what the policy blocks: an inline <script> or <style> without a nonce, a style="..." attribute, an event-handler
attribute (onclick=...), a javascript: URL; our static JavaScript neither evaluates strings as code nor writes style
or event-handler attributes. The browser tests catch what a page actually does (testing.browser); this catches it in
the source, for pages no browser test visits. Each check is shown failing on a planted violation."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("accounts", "alerts", "api", "artifacts", "bugsink", "blobs", "events", "ingest", "issues", "projects")
APPS += ("releases", "tags")
# read in mail clients, which drop linked stylesheets: inline styles are how an HTML email is styled, and no CSP
# applies to it
EMAIL_TEMPLATES = {"alerts/templates/alerts/alert_email.html", "alerts/templates/alerts/people_email.html"}

HTML_RULES = {
    "inline <script> without a nonce": re.compile(r"<script\b(?![^>]*\b(?:src|nonce)\s*=)[^>]*>", re.IGNORECASE),
    "<style> block without a nonce": re.compile(r"<style\b(?![^>]*\bnonce\s*=)[^>]*>", re.IGNORECASE),
    "style attribute": re.compile(r"<[a-zA-Z][^<>]*\sstyle\s*=", re.IGNORECASE),
    "event-handler attribute": re.compile(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"\b(?:href|src|action|formaction)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE),
}
JS_RULES = {
    "eval": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"\bnew\s+Function\s*\("),
    "string timer": re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*[\"'`]"),
    "style or event-handler attribute set": re.compile(r"setAttribute\s*\(\s*[\"'](?:style|on[a-z]+)[\"']", re.I),
    "style or event handler in HTML": re.compile(r"(?:inner|outer|insertAdjacent)HTML[^;]*\s(?:style|on[a-z]+)="),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def html_violations(text: str) -> list[str]:
    return [f"{name}: {match.group(0)[:80]!r}" for name, rule in HTML_RULES.items() for match in rule.finditer(text)]


def js_violations(text: str) -> list[str]:
    return [f"{name}: {match.group(0)[:80]!r}" for name, rule in JS_RULES.items() for match in rule.finditer(text)]


def python_strings(source: str) -> list[str]:
    """The string constants of a module, docstrings aside (they describe HTML; they are not rendered)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def violations_in_tree(root: Path, apps=APPS) -> list[str]:
    found = []
    templates = [*(root / "templates").rglob("*.html")]
    for app in apps:
        templates += (root / app / "templates").rglob("*.html")
    for path in templates:
        relative = path.relative_to(root).as_posix()
        if relative not in EMAIL_TEMPLATES:
            found += [f"{relative}: {v}" for v in html_violations(path.read_text())]
    for app in apps:
        for path in (root / app).rglob("*.py"):
            relative = path.relative_to(root)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            for text in python_strings(path.read_text()):
                found += [f"{relative.as_posix()}: {v}" for v in html_violations(text)]
    for path in (root / "static").rglob("*.js"):
        found += [f"{path.relative_to(root).as_posix()}: {v}" for v in js_violations(path.read_text())]
    return found


def test_no_template_python_html_or_script_holds_what_the_policy_blocks():
    assert violations_in_tree(ROOT) == []


@pytest.mark.parametrize(
    "planted",
    [
        "<script>alert(1)</script>",
        '<script type="module">import "x";</script>',
        "<SCRIPT>x()</SCRIPT>",
        "<style>body { color: red }</style>",
        '<span style="width: 30%">',
        "<div class=\"a\"\n     style='color: red'>",
        '<svg><rect style="fill: red"/></svg>',
        '<button onclick="go()">',
        '<body onload="start()">',
        '<a href="javascript:alert(1)">',
        "<a href=' JavaScript:alert(1)'>",
    ],
)
def test_the_html_rules_catch_a_planted_violation(planted):
    assert html_violations(f"<p>before</p>{planted}<p>after</p>")


@pytest.mark.parametrize(
    "allowed",
    [
        '<script src="/static/js/app.js" defer></script>',
        '<script nonce="{{ request.csp_nonce }}">x()</script>',
        '<style nonce="{{ request.csp_nonce }}">p { color: red }</style>',
        '<link rel="stylesheet" href="/static/css/app.css">',
        '<svg class="tag-bar" viewBox="0 0 100 1"><rect width="37.5" height="1"/></svg>',
        '<a href="https://example.com/" rel="noopener">a link about javascript: and style="" and onclick</a>',
        '<input name="online" data-once="1">',
    ],
)
def test_the_html_rules_allow_what_the_policy_allows(allowed):
    assert html_violations(allowed) == []


@pytest.mark.parametrize(
    "planted",
    [
        "eval(code);",
        'const f = new Function("return 1");',
        'setTimeout("go()", 10);',
        'el.setAttribute("style", "color: red");',
        "el.setAttribute('onclick', 'go()');",
        'el.innerHTML = "<b style=\\"color:red\\">x</b>";',
        'a.href = "javascript:void(0)";',
    ],
)
def test_the_script_rules_catch_a_planted_violation(planted):
    assert js_violations(planted)


def test_the_script_rules_allow_cssom_and_data_attributes():
    allowed = 'area.style.position = "fixed"; el.setAttribute("data-copied", "true"); setTimeout(() => go(), 0);'
    assert js_violations(allowed) == []


def test_the_tree_scan_finds_a_planted_template_python_string_and_script(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "base.html").write_text('<p>fine</p><script src="/static/x.js"></script>')
    app_templates = tmp_path / "shop" / "templates" / "shop"
    app_templates.mkdir(parents=True)
    (app_templates / "page.html").write_text('{% block content %}<span style="width: {{ n }}%"></span>{% endblock %}')
    (tmp_path / "shop" / "rendering.py").write_text(
        '"""Builds <span style="..."> rows (a docstring: not rendered)."""\n'
        "from django.utils.html import format_html\n\n"
        "def cell(x):\n"
        "    return format_html('<td onclick=\"pick()\">{}</td>', x)\n"
    )
    (tmp_path / "shop" / "tests").mkdir()
    (tmp_path / "shop" / "tests" / "test_page.py").write_text("PLANTED = '<script>x()</script>'\n")
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "shop.js").write_text('document.body.setAttribute("style", "x");\n')

    found = violations_in_tree(tmp_path, apps=("shop",))
    assert len(found) == 3, found
    assert any(v.startswith("shop/templates/shop/page.html: style attribute") for v in found)
    assert any(v.startswith("shop/rendering.py: event-handler attribute") for v in found)
    assert any(v.startswith("static/js/shop.js: style or event-handler attribute set") for v in found)


def test_email_templates_are_the_only_exception():
    """Emails keep their inline styles; the exception names files that exist, so it cannot hide a page."""
    for relative in EMAIL_TEMPLATES:
        assert (ROOT / relative).exists(), relative
        assert html_violations((ROOT / relative).read_text())  # inline styles: why it is listed
