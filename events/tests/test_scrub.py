"""The scrubbing rules of events.scrub, one by one, on normalized events; and the samples' regression check: an
event without secrets is stored exactly as before."""

import copy
import json

import pytest

from digest.normalize import normalize_event
from events.safe import MAX_DEPTH
from events.scrub import (
    FILTERED,
    MARKER_KEY,
    ScrubPolicy,
    looks_like_card_number,
    luhn_valid,
    scrub_event,
    scrub_summary,
)
from projects.scrub_settings import parse_field_names
from testing.utils import sample_files

DEFAULT = ScrubPolicy()


def scrubbed(event: dict, policy: ScrubPolicy = DEFAULT) -> dict:
    return scrub_event(normalize_event(event, event_id="a" * 32, received_at=1.7e9, remote_addr="203.0.113.9"), policy)


def paths(event: dict) -> list[str]:
    return event.get(MARKER_KEY, {}).get("paths", [])


# --- keys ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "passwd",
        "AWS_SECRET_ACCESS_KEY",
        "client-secret",
        "api_key",
        "X-Api-Key",
        "apiKey",
        "Authorization",
        "Proxy-Authorization",
        "oauth_state",
        "credentials",
        "MYSQL_PWD",
        "private_key",
        "privateKey",
        "refresh_token",
        "GITHUB_TOKEN",
        "csrfmiddlewaretoken",
        "X-XSRF-TOKEN",
        "Cookie",
        "Set-Cookie",
        "sessionid",
        "JSESSIONID",
        "session",
        "bearer",
        "passphrase",
        "credit_card",
        "card-number",
    ],
)
def test_values_under_sensitive_keys_are_filtered(key):
    event = scrubbed({"extra": {key: "s3cr3t-value", "harmless": "visible"}})
    assert event["extra"] == {key: FILTERED, "harmless": "visible"}
    assert paths(event) == [f"extra.{key}"]


@pytest.mark.parametrize(
    "key", ["author", "authors", "author_name", "authority", "DESKTOP_SESSION", "session:duration", "PWD", "keys"]
)
def test_keys_that_only_look_sensitive_are_kept(key):
    """'auth' followed by 'or' is an author or an authority; 'session' matches whole names only."""
    event = scrubbed({"extra": {key: "visible"}})
    assert event["extra"] == {key: "visible"}
    assert MARKER_KEY not in event


def test_nested_keys_at_any_depth_and_whole_containers():
    event = scrubbed(
        {"contexts": {"app": {"config": {"db": {"api_key": "k1", "host": "db"}, "credentials": {"user": "u"}}}}}
    )
    config = event["contexts"]["app"]["config"]
    assert config == {"db": {"api_key": FILTERED, "host": "db"}, "credentials": FILTERED}
    assert sorted(paths(event)) == ["contexts.app.config.credentials", "contexts.app.config.db.api_key"]


def test_values_without_content_are_kept_and_not_counted():
    event = scrubbed({"extra": {"auth_enabled": True, "token": None, "secret": "", "password": FILTERED}})
    assert event["extra"] == {"auth_enabled": True, "token": None, "secret": "", "password": FILTERED}
    assert MARKER_KEY not in event


def test_numbers_under_sensitive_keys_are_filtered():
    assert scrubbed({"extra": {"pin_secret": 1234}})["extra"] == {"pin_secret": FILTERED}


# --- request ------------------------------------------------------------------------------------------------------


def test_request_headers_cookies_env_query_and_body():
    event = scrubbed(
        {
            "request": {
                "url": "https://shop.example/cb?code=1&access_token=tok123",
                "headers": {
                    "Authorization": "Basic dXNlcjpwdw==",
                    "X-Api-Key": "key-1",
                    "Cookie": "sessionid=abc",
                    "Accept": "text/html",
                },
                "cookies": {"sessionid": "abc", "theme": "dark"},
                "env": {"SERVER_NAME": "web1", "HTTP_AUTHORIZATION": "Basic x"},
                "query_string": "page=2&api_key=k2",
                "data": {"username": "bob", "password": "pw", "nested": {"card_number": "x"}},
            }
        }
    )
    request = event["request"]
    assert request["url"] == f"https://shop.example/cb?code=1&access_token={FILTERED}"
    assert request["headers"] == {
        "Authorization": FILTERED,
        "X-Api-Key": FILTERED,
        "Cookie": FILTERED,
        "Accept": "text/html",
    }
    assert request["cookies"] == {"sessionid": FILTERED, "theme": FILTERED}
    assert request["env"] == {"SERVER_NAME": "web1", "HTTP_AUTHORIZATION": FILTERED}
    assert request["query_string"] == f"page=2&api_key={FILTERED}"
    assert request["data"] == {"username": "bob", "password": FILTERED, "nested": {"card_number": FILTERED}}


def test_every_cookie_value_goes_and_every_name_stays():
    assert scrubbed({"request": {"cookies": "laravel_session=abc; theme=dark"}})["request"]["cookies"] == (
        f"laravel_session={FILTERED}; theme={FILTERED}"
    )
    event = scrubbed({"request": {"cookies": [["connect.sid", "s:1"], ["lang", "en"]]}})
    assert event["request"]["cookies"] == [["connect.sid", FILTERED], ["lang", FILTERED]]
    assert paths(event) == ["request.cookies.connect.sid", "request.cookies.lang"]
    kept = scrubbed({"request": {"cookies": {"theme": "dark"}}}, ScrubPolicy(safe_fields=("theme",)))
    assert kept["request"]["cookies"] == {"theme": "dark"}


def test_pairs_as_sent_in_lists():
    event = {"request": {"query_string": [["token", "t1"], ["page", "2"]], "cookies": [["theme", "dark"]]}}
    event = scrubbed(event)
    assert event["request"]["query_string"] == [["token", FILTERED], ["page", "2"]]
    assert "request.query_string.token" in paths(event)


def test_headers_sent_as_list_of_pairs():
    raw = {"request": {"headers": [["Authorization", "Bearer abc.def.ghi"], ["Host", "shop.example"]]}}
    event = scrub_event(copy.deepcopy(raw), DEFAULT)  # before normalize turns them into a dict
    assert event["request"]["headers"] == [["Authorization", FILTERED], ["Host", "shop.example"]]
    assert scrubbed(raw)["request"]["headers"] == {"Authorization": FILTERED, "Host": "shop.example"}


def test_form_and_json_bodies_sent_as_text():
    event = scrubbed({"request": {"data": "user=bob&password=hunter2&remember=1"}})
    assert event["request"]["data"] == f"user=bob&password={FILTERED}&remember=1"
    event = scrubbed({"request": {"data": '{"user": "bob", "client_secret": "cs-1", "n": 1}'}})
    assert event["request"]["data"] == f'{{"user": "bob", "client_secret": "{FILTERED}", "n": 1}}'


# --- strings anywhere ---------------------------------------------------------------------------------------------


def test_urls_with_credentials_keep_all_but_the_password():
    event = scrubbed(
        {"extra": {"DATABASE_URL": "postgres://app:pw123@db.internal:5432/shop", "home": "https://shop.example/"}}
    )
    assert event["extra"]["DATABASE_URL"] == f"postgres://app:{FILTERED}@db.internal:5432/shop"
    assert event["extra"]["home"] == "https://shop.example/"
    event = scrubbed(exception_with_value("cannot connect to redis://:r3dis@cache:6379/0"))
    assert event["exception"]["values"][0]["value"] == f"cannot connect to redis://:{FILTERED}@cache:6379/0"


def exception_with_value(value: str) -> dict:
    return {"exception": {"values": [{"type": "ConnectionError", "value": value}]}}


def test_bearer_tokens_and_assignments_in_texts():
    event = scrubbed({"message": "sent Bearer eyJhbGciOi.x.y with --password=hunter2 and mode=fast"})
    assert event["message"] == f"sent Bearer {FILTERED} with --password={FILTERED} and mode=fast"


def test_argv_lists_filter_the_value_after_a_sensitive_option():
    event = scrubbed({"extra": {"sys.argv": ["manage.py", "migrate", "--db-password", "hunter2", "--verbose", "1"]}})
    assert event["extra"]["sys.argv"] == ["manage.py", "migrate", "--db-password", FILTERED, "--verbose", "1"]
    assert paths(event) == ["extra.sys.argv.3"]


def test_environ_as_sentry_cli_sends_it():
    environ = {"HOME": "/home/ci", "DB_PASSWORD": "pw", "AWS_SECRET_ACCESS_KEY": "ak", "SSH_AUTH_SOCK": "/tmp/s"}
    event = scrubbed({"message": "deploy", "extra": {"environ": environ}})
    assert event["extra"]["environ"] == {
        "HOME": "/home/ci",
        "DB_PASSWORD": FILTERED,
        "AWS_SECRET_ACCESS_KEY": FILTERED,
        "SSH_AUTH_SOCK": FILTERED,
    }


# --- card numbers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011000990139424"]
)
def test_card_numbers_are_filtered_in_any_text(number):
    event = scrubbed({"message": f"charging {number} failed", "tags": {"order": "o-1"}})
    assert event["message"] == f"charging {FILTERED} failed"


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails the Luhn check
        "1700000000000005",  # a millisecond timestamp: cards start with 2 to 6
        "order 12345678",  # too short
        "id a4111111111111111b",  # part of a longer word
        "41111111111111111111111",  # too long
    ],
)
def test_numbers_that_are_not_card_numbers_are_kept(text):
    assert scrubbed({"message": text})["message"] == text


def test_card_numbers_as_json_integers_in_frame_vars_and_threads():
    frame = {"function": "charge", "vars": {"number": 4111111111111111, "amount": 12}}
    event = scrubbed({"threads": {"values": [{"id": 1, "stacktrace": {"frames": [frame]}}]}})
    assert event["threads"]["values"][0]["stacktrace"]["frames"][0]["vars"] == {"number": FILTERED, "amount": 12}


def test_luhn():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert looks_like_card_number("4111111111111111") and not looks_like_card_number("4111111111111111111111")


# --- where: frames, exceptions, breadcrumbs, messages, tags, user --------------------------------------------------


def test_frame_vars_of_every_exception_and_breadcrumb_data():
    def frame(name):
        return {"function": name, "filename": "app.py", "vars": {"db_password": "'pw'", "order": "'o-1'"}}

    event = scrubbed(
        {
            "exception": {
                "values": [
                    {"type": "KeyError", "stacktrace": {"frames": [frame("a")]}},
                    {"type": "ValueError", "stacktrace": {"frames": [frame("b"), frame("c")]}},
                ]
            },
            "breadcrumbs": {"values": [{"category": "http", "data": {"url": "/x", "refresh_token": "r"}}]},
        }
    )
    for exception in event["exception"]["values"]:
        for frame in exception["stacktrace"]["frames"]:
            assert frame["vars"] == {"db_password": FILTERED, "order": "'o-1'"}
    assert event["breadcrumbs"]["values"][0]["data"] == {"url": "/x", "refresh_token": FILTERED}
    assert event[MARKER_KEY]["filtered"] == 4


def test_log_message_params_and_formatted_text():
    event = scrubbed({"logentry": {"message": "charging %s", "params": ["4111 1111 1111 1111"]}})
    assert event["logentry"] == {"message": "charging %s", "formatted": f"charging {FILTERED}", "params": [FILTERED]}


def test_code_locations_are_not_scanned():
    """.NET assembly names say PublicKeyToken=...; source lines may say token=...: neither is event data."""
    module = "System.Private.CoreLib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e"
    frame = {"module": module, "package": module, "context_line": "    login(token=token)", "function": "f"}
    event = scrubbed({"exception": {"values": [{"type": "E", "module": module, "stacktrace": {"frames": [frame]}}]}})
    assert event["exception"]["values"][0]["stacktrace"]["frames"][0] == frame
    assert MARKER_KEY not in event


def test_source_lines_lose_card_numbers_and_url_passwords_only():
    frame = {
        "function": "f",
        "pre_context": ['DATABASE_URL = "postgres://app:pw1@db/shop"', "TEST_CARD = '4111 1111 1111 1111'"],
        "context_line": "    login(token=token, auth=Bearer)",
        "post_context": ["    return password"],
    }
    event = scrubbed({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]}})
    kept = event["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert kept["pre_context"] == [f'DATABASE_URL = "postgres://app:{FILTERED}@db/shop"', f"TEST_CARD = '{FILTERED}'"]
    assert kept["context_line"] == frame["context_line"] and kept["post_context"] == frame["post_context"]
    assert paths(event) == [
        "exception.values.0.stacktrace.frames.0.pre_context.0",
        "exception.values.0.stacktrace.frames.0.pre_context.1",
    ]


def test_tags_and_user_but_not_user_id_or_email():
    event = scrubbed(
        {
            "tags": {"session_id": "s1", "browser": "Firefox"},
            "user": {"id": "4111111111111111", "email": "bob@example.com", "api_token": "t", "name": "Bob"},
        }
    )
    assert event["tags"] == {"session_id": FILTERED, "browser": "Firefox"}
    assert event["user"] == {"id": "4111111111111111", "email": "bob@example.com", "api_token": FILTERED, "name": "Bob"}


def test_bookkeeping_fields_and_module_versions_are_left_alone():
    event = scrubbed(
        {"release": "auth-service@1.0", "environment": "token-test", "modules": {"google-auth": "2.1", "pyjwt": "2"}}
    )
    assert event["release"] == "auth-service@1.0" and event["environment"] == "token-test"
    assert event["modules"] == {"google-auth": "2.1", "pyjwt": "2"}
    assert MARKER_KEY not in event


# --- per-project settings -----------------------------------------------------------------------------------------


def test_extra_sensitive_fields_match_keys_and_texts():
    policy = ScrubPolicy(sensitive_fields=("ssn", "sk_live_", "email"))
    event = scrubbed(
        {
            "extra": {"customer_ssn": "123-45-6789", "note": "key sk_live_abc123 leaked", "plan": "pro"},
            "user": {"id": "7", "email": "bob@example.com"},
        },
        policy,
    )
    assert event["extra"] == {"customer_ssn": FILTERED, "note": FILTERED, "plan": "pro"}
    assert event["user"] == {"id": "7", "email": FILTERED}  # configured: now the email goes too


def test_safe_fields_are_never_scrubbed():
    policy = ScrubPolicy(safe_fields=("Author_Token", "build"))
    event = scrubbed(
        {"extra": {"author_token": "visible", "build": {"password": "kept", "card": "4111111111111111"}, "token": "t"}},
        policy,
    )
    assert event["extra"] == {
        "author_token": "visible",
        "build": {"password": "kept", "card": "4111111111111111"},
        "token": FILTERED,
    }


def test_without_the_default_scrubbers_only_extra_fields_apply():
    policy = ScrubPolicy(defaults=False, sensitive_fields=("ssn",))
    event = scrubbed({"extra": {"password": "pw", "ssn": "1", "card": "4111111111111111"}}, policy)
    assert event["extra"] == {"password": "pw", "ssn": FILTERED, "card": "4111111111111111"}
    nothing = ScrubPolicy(defaults=False)
    assert scrubbed({"extra": {"password": "pw"}}, nothing)["extra"] == {"password": "pw"}


def test_ip_addresses_are_removed_when_the_project_says_so():
    event = {
        "user": {"id": "1", "ip_address": "{{auto}}"},
        "request": {
            "headers": {"X-Forwarded-For": "198.51.100.7", "X-Real-Ip": "198.51.100.7", "Host": "shop.example"},
            "env": {"REMOTE_ADDR": "198.51.100.7", "SERVER_NAME": "web1"},
        },
    }
    kept = scrubbed(copy.deepcopy(event))
    assert kept["user"]["ip_address"] == "203.0.113.9"  # the sender's address, as SDKs ask with {{auto}}
    assert kept["request"]["headers"]["X-Forwarded-For"] == "198.51.100.7"
    removed = scrubbed(copy.deepcopy(event), ScrubPolicy(scrub_ip_addresses=True))
    assert removed["user"] == {"id": "1"}
    assert removed["request"]["headers"] == {"Host": "shop.example"}
    assert removed["request"]["env"] == {"SERVER_NAME": "web1"}
    assert removed[MARKER_KEY]["removed"] == 4
    assert "198.51.100.7" not in json.dumps(removed)


def test_field_names_are_parsed_and_bounded():
    assert parse_field_names("ssn\n  Email ,email\n\nsk_live_") == ["ssn", "Email", "sk_live_"]
    with pytest.raises(ValueError):
        parse_field_names("x" * 101)
    with pytest.raises(ValueError):
        parse_field_names("\n".join(f"f{i}" for i in range(101)))


# --- the marker ---------------------------------------------------------------------------------------------------


def test_the_marker_counts_all_and_lists_a_bounded_number_of_paths():
    event = scrubbed({"extra": {f"token_{i}": "t" for i in range(150)}})
    assert event[MARKER_KEY]["filtered"] == 150
    assert len(event[MARKER_KEY]["paths"]) == 100
    assert scrub_summary(event) == {"filtered": 150, "removed": 0, "paths": event[MARKER_KEY]["paths"]}


def test_a_marker_sent_by_a_client_is_not_believed():
    event = scrubbed({"message": "hello", MARKER_KEY: {"filtered": 3, "paths": ["x"]}})
    assert MARKER_KEY not in event
    assert scrub_summary({MARKER_KEY: "nonsense"}) is None
    assert scrub_summary({MARKER_KEY: {"filtered": "3"}}) is None


def test_deep_nesting_is_walked_to_the_depth_normalize_keeps():
    deep = leaf = {}
    for _ in range(MAX_DEPTH + 10):
        leaf["child"] = {}
        leaf = leaf["child"]
    leaf["password"] = "pw"
    event = scrubbed({"extra": {"deep": deep, "near": {"a": {"password": "pw"}}}})
    assert event["extra"]["near"]["a"]["password"] == FILTERED
    assert "pw" not in json.dumps(event["extra"]["deep"])  # cut to a marker by normalize, never reached


# --- regression: the samples --------------------------------------------------------------------------------------

# samples that carry what the scrubber is for: a Cookie header, a session cookie in a WSGI environ
SAMPLES_WITH_SECRETS = {
    "dotnet/headers-as-lists.json": ["request.headers.Cookie"],
    "python/wsgi-request-error.json": ["exception.values.0.stacktrace.frames.0.vars.environ.HTTP_COOKIE"],
    "python-sdk3/wsgi-request-error.json": ["exception.values.0.stacktrace.frames.0.vars.environ.HTTP_COOKIE"],
    # sentry-sdk 3.x filters the Cookie header, not the environ, a `session` local or a card token
    "python-sdk3/web-checkout-15-frames.json": [
        "exception.values.0.stacktrace.frames.0.vars.environ.HTTP_COOKIE",
        "exception.values.0.stacktrace.frames.6.vars.session",
        "exception.values.0.stacktrace.frames.6.vars.customer.card_token",
        "exception.values.0.stacktrace.frames.7.vars.customer.card_token",
        "exception.values.0.stacktrace.frames.8.vars.card_token",
    ],
}


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_samples_are_stored_unchanged_but_for_their_secrets(path):
    normalized = normalize_event(json.loads(path.read_text()), event_id="a" * 32, received_at=1.7e9)
    before = json.dumps(normalized)
    after = scrub_event(normalized, DEFAULT)
    name = f"{path.parent.name}/{path.name}"
    if name not in SAMPLES_WITH_SECRETS:
        assert json.dumps(after) == before, paths(after)
        return
    assert paths(after) == SAMPLES_WITH_SECRETS[name]
    original = json.loads(before)
    marker = after.pop(MARKER_KEY)
    for dotted in marker["paths"]:  # each listed value is [Filtered] now; put the original back: all else is equal
        *parents, last = dotted.split(".")
        target, source = after, original
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
            source = source[int(part)] if isinstance(source, list) else source[part]
        assert target[last] == FILTERED
        target[last] = source[last]
    assert json.dumps(after) == before
