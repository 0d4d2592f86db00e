"""bugsink.links: which URLs a page may make a link of, the template helpers that apply it, and the BASE_URL check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.template import Context, Template

from bugsink.links import http_url_or_empty, is_http_url

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/path?q=1#frag",
        "HTTPS://EXAMPLE.COM/",
        "https://ci.example.com:8443/builds/12",
        "http://127.0.0.1:8000/",
        "http://[::1]:8000/x",
        "https://user@example.com/",
        "https://bücher.example/ärger",
    ],
)
def test_http_urls_may_be_links(url):
    assert is_http_url(url)
    assert http_url_or_empty(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\x00javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/",
        "mailto:a@example.com",
        "//evil.example/",
        "/relative/path",
        "example.com",
        "http:/example.com",
        "http://",
        "https:///path",
        " https://example.com",
        "https://example.com ",
        "https://exa mple.com/",
        "https://example.com/\x7f",
        "https://example.com/\u2028",
        "https://example.com/\u00a0",
        "https://example.com:99999/",
        "https://example.com:port/",
        "http://[::1/",
        "",
        None,
        5,
        ["https://example.com"],
    ],
)
def test_anything_else_may_not(url):
    assert not is_http_url(url)
    assert http_url_or_empty(url) == ""


def render(source: str, **context) -> str:
    return Template("{% load bugsink %}" + source).render(Context(context))


def test_external_link_is_a_link_for_http_urls_only():
    link = render("{% external_link url %}", url="https://ci.example.com/b?x=1&y=2")
    assert link == (
        '<a href="https://ci.example.com/b?x=1&amp;y=2" rel="noopener noreferrer nofollow">'
        "<bdi>https://ci.example.com/b?x=1&amp;y=2</bdi></a>"
    )
    named = render('{% external_link url name|default:"unnamed" %}', url="https://x.example/", name="")
    assert named == '<a href="https://x.example/" rel="noopener noreferrer nofollow"><bdi>unnamed</bdi></a>'


@pytest.mark.parametrize("url", ["javascript:alert(document.domain)", 'javascript:"><img src=x>', " javascript:x", ""])
def test_external_link_is_escaped_text_otherwise(url):
    html = render("{% external_link url %}", url=url)
    assert "<a" not in html and "href" not in html and "<img" not in html
    named = render("{% external_link url name %}", url=url, name="<b>prod</b>")
    assert named == "<bdi>&lt;b&gt;prod&lt;/b&gt;</bdi>"  # client text, isolated (bugsink.bidi)


def test_http_url_filter():
    assert render("{{ url|http_url }}", url="https://x.example/a") == "https://x.example/a"
    assert render("[{{ url|http_url }}]", url="javascript:alert(1)") == "[]"


def settings_import(base_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BASE_URL": base_url, "DJANGO_SETTINGS_MODULE": "testing.settings"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.BASE_URL)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_base_url_that_is_not_http_stops_the_start():
    """Emails and chat alerts link to BASE_URL: a javascript: (or schemeless) one is a configuration error."""
    for bad in ("javascript:alert(1)//", "example.com", "ftp://example.com"):
        result = settings_import(bad)
        assert result.returncode != 0
        assert (
            "ImproperlyConfigured" in result.stderr and "BASE_URL must be an http:// or https:// URL" in result.stderr
        )
    good = settings_import("https://errors.example.com/")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "https://errors.example.com"
