"""Browser, OS and device contexts from the User-Agent (digest.useragent), and what digest does with them: stored
with the event, tagged, searchable by name, the SDK's own contexts kept."""

import uuid

import pytest

from digest.useragent import (
    MAX_USER_AGENT_CHARS,
    USER_AGENT_CACHE_SIZE,
    add_user_agent_contexts,
    parse_user_agent,
    user_agent_of,
)
from events.models import Event
from issues.models import Issue
from tags.search import filter_issues, parse_query
from testing.utils import exception_event

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
    "Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def browser_event(user_agent, platform="javascript") -> dict:
    return {"platform": platform, "request": {"url": "https://shop.example/", "headers": {"User-Agent": user_agent}}}


def contexts_for(user_agent, platform="javascript", **event) -> dict:
    event = {**browser_event(user_agent, platform), **event}
    add_user_agent_contexts(event)
    return event.get("contexts")


def test_chrome_on_windows():
    assert contexts_for(CHROME_WINDOWS) == {
        "browser": {"name": "Chrome", "version": "120.0.0", "type": "browser"},
        "os": {"name": "Windows", "version": "10", "type": "os"},
    }


def test_a_phone_has_a_device():
    assert contexts_for(SAFARI_IPHONE) == {
        "browser": {"name": "Mobile Safari", "version": "17.2", "type": "browser"},
        "os": {"name": "iOS", "version": "17.2", "type": "os"},
        "device": {"family": "iPhone", "model": "iPhone", "brand": "Apple", "type": "device"},
    }


def test_the_visitors_os_of_a_server_side_event_is_its_client_os():
    """A Python or Node event's `os` context is the server's: the visitor's OS goes to `client_os`, as in Sentry."""
    assert contexts_for(FIREFOX_LINUX, platform="python") == {
        "browser": {"name": "Firefox", "version": "128.0", "type": "browser"},
        "client_os": {"name": "Linux", "type": "os"},
    }
    server_os = {"name": "Linux", "version": "6.1.0", "kernel_version": "6.1.0-18-amd64"}
    contexts = contexts_for(CHROME_WINDOWS, platform="node", contexts={"os": server_os})
    assert contexts["os"] == server_os and contexts["client_os"]["name"] == "Windows"


def test_the_sdks_own_contexts_win():
    sent = {"browser": {"name": "Chrome", "version": "121.0.6167.85"}, "device": {"family": "Desktop"}}
    contexts = contexts_for(SAFARI_IPHONE, contexts={k: dict(v) for k, v in sent.items()})
    assert contexts["browser"] == sent["browser"] and contexts["device"] == sent["device"]
    assert contexts["os"] == {"name": "iOS", "version": "17.2", "type": "os"}  # what the SDK did not send


@pytest.mark.parametrize(
    "request_",
    [
        None,
        "not a dict",
        {},
        {"headers": None},
        {"headers": {"User-Agent": ""}},
        {"headers": {"User-Agent": 42}},  # .NET's numeric header (samples/dotnet/user-agent-not-a-string.json)
        {"headers": {"User-Agent": ["a", "list"]}},
        {"headers": {"Accept": "text/html"}},
        {"headers": {"User-Agent": "zzz/\x00\ud800 nonsense"}},  # nothing the parser knows
    ],
)
def test_nothing_is_made_up(request_):
    event = {"platform": "javascript", "request": request_}
    add_user_agent_contexts(event)
    assert "contexts" not in event


def test_the_header_name_in_any_case_and_a_huge_value():
    assert user_agent_of({"request": {"headers": {"user-agent": " UA "}}}) == "UA"
    assert user_agent_of({"request": {"headers": {"USER-AGENT": "UA"}}}) == "UA"
    huge = CHROME_WINDOWS + " x" * 500_000  # parsed from its start, in bounded time and memory
    assert contexts_for(huge)["browser"]["name"] == "Chrome"
    assert MAX_USER_AGENT_CHARS < len(huge)


def test_the_regexes_run_in_a_linear_time_engine():
    """The runtime lock installs google-re2 (ua-parser's re2 extra): every regex of uap-core runs in RE2, where no
    User-Agent can make one backtrack. Dropping the extra would silently fall back to Python's backtracking `re`."""
    from ua_parser import re2

    from digest import useragent

    assert isinstance(useragent._get_resolver(), re2.Resolver)


def test_results_are_cached_per_string_and_the_cache_is_bounded():
    parse_user_agent.cache_clear()
    for _ in range(3):
        contexts_for(FIREFOX_LINUX)
    info = parse_user_agent.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (2, 1, USER_AGENT_CACHE_SIZE)
    # the cached result is shared: what one event's contexts become cannot change the next event's
    first = contexts_for(FIREFOX_LINUX)
    first["browser"]["name"] = "changed"
    assert contexts_for(FIREFOX_LINUX)["browser"]["name"] == "Firefox"


# --- through ingest and digest ----------------------------------------------------------------------------------


def test_digest_stores_tags_and_finds_the_browser_by_name(project, send_event):
    event_id = uuid.uuid4().hex
    event = {**exception_event(), **browser_event(CHROME_WINDOWS), "event_id": event_id}
    assert send_event(project, event).status_code == 200
    stored = Event.objects.get(event_id=event_id)
    assert stored.data["contexts"]["browser"] == {"name": "Chrome", "version": "120.0.0", "type": "browser"}
    tags = {tag.value.key: tag.value.value for tag in stored.tags.select_related("value")}
    assert {key: tags[key] for key in ("browser", "browser.name", "os", "os.name")} == {
        "browser": "Chrome 120.0.0",
        "browser.name": "Chrome",
        "os": "Windows 10",
        "os.name": "Windows",
    }
    assert "device" not in tags  # a desktop: the parser says "Other"

    send_event(project, {**exception_event("KeyError"), **browser_event(FIREFOX_LINUX)})

    def found(query):
        return sorted(issue.calculated_type for issue in filter_issues(Issue.objects.all(), parse_query(query)))

    assert found("browser:Chrome") == ["ValueError"]  # the name alone
    assert found('browser:"Chrome 120.0.0"') == ["ValueError"]
    assert found("browser.name:Firefox") == ["KeyError"]
    assert found("os:Windows") == found('os:"Windows 10"') == found("os.name:Windows") == ["ValueError"]
    assert found("os:Linux") == ["KeyError"]
    assert found("browser:Safari") == []


def test_digest_keeps_what_the_sdk_sent(project, send_event):
    event_id = uuid.uuid4().hex
    sent = {"browser": {"name": "Firefox", "version": "115.0"}, "os": {"name": "Ubuntu", "version": "22.04"}}
    event = {**exception_event(), **browser_event(CHROME_WINDOWS), "contexts": sent, "event_id": event_id}
    send_event(project, event)
    stored = Event.objects.get(event_id=event_id)
    assert stored.data["contexts"] == sent
    tags = {tag.value.key: tag.value.value for tag in stored.tags.select_related("value")}
    assert (tags["browser"], tags["os"]) == ("Firefox 115.0", "Ubuntu 22.04")
