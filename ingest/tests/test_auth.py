"""Unit tests for where the public key comes from (ingest.auth); no database."""

from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from ingest.auth import key_from_dsn, key_matches, parse_auth_header, sentry_key_from_request

KEY = "0123456789abcdef0123456789abcdef"


class TestParseAuthHeader:
    @pytest.mark.parametrize(
        "value",
        [
            f"Sentry sentry_version=7, sentry_client=sentry.python/2.75, sentry_key={KEY}",
            f"Sentry sentry_version=7,sentry_client=sentry-cli/3.8,sentry_key={KEY},sentry_secret=s",
            f"sentry sentry_key={KEY}",
            f"SENTRY   sentry_key={KEY}",
            f"Sentry\tsentry_key={KEY}",
            f"  Sentry sentry_key = {KEY} ,sentry_version=5  ",
            f"sentry_key={KEY}, sentry_version=7",  # no scheme word
            f'Sentry sentry_key="{KEY}"',
            f"Sentry Sentry_Key={KEY}",
        ],
    )
    def test_key_found(self, value):
        assert parse_auth_header(value)["sentry_key"] == KEY

    def test_all_fields(self):
        parsed = parse_auth_header(
            f"Sentry sentry_version=5, sentry_client=raven-ruby/3.1.2, sentry_timestamp=1700000000, "
            f"sentry_key={KEY}, sentry_secret=shh"
        )
        assert parsed == {
            "sentry_version": "5",
            "sentry_client": "raven-ruby/3.1.2",
            "sentry_timestamp": "1700000000",
            "sentry_key": KEY,
            "sentry_secret": "shh",
        }

    def test_value_containing_equals_signs(self):
        assert parse_auth_header("Sentry sentry_client=a=b, sentry_key=k")["sentry_client"] == "a=b"

    @pytest.mark.parametrize("value", ["", "Sentry", "Sentry ", "Bearer abc.def", "Basic dXNlcjpwYXNz", ",,,", "=,="])
    def test_no_key(self, value):
        assert "sentry_key" not in parse_auth_header(value)


class TestKeyFromDsn:
    @pytest.mark.parametrize(
        "dsn",
        [
            f"https://{KEY}@o1.ingest.example.com/42",
            f"http://{KEY}:secret@127.0.0.1:8000/sub/42",
            f"http://{KEY}@[::1]:9000/42",
        ],
    )
    def test_key(self, dsn):
        assert key_from_dsn(dsn) == KEY

    @pytest.mark.parametrize("dsn", [None, 42, {}, "", "not a dsn", "https://example.com/42", "http://[::1/42"])
    def test_no_key(self, dsn):
        assert key_from_dsn(dsn) is None


class TestSentryKeyFromRequest:
    factory = RequestFactory()

    def test_x_sentry_auth(self):
        request = self.factory.post("/api/1/envelope/", HTTP_X_SENTRY_AUTH=f"Sentry sentry_key={KEY}")
        assert sentry_key_from_request(request) == KEY

    def test_authorization(self):
        request = self.factory.post("/api/1/envelope/", HTTP_AUTHORIZATION=f"Sentry sentry_key={KEY}")
        assert sentry_key_from_request(request) == KEY

    def test_query_string(self):
        request = self.factory.post(f"/api/1/envelope/?sentry_version=7&sentry_key={KEY}&sentry_client=js")
        assert sentry_key_from_request(request) == KEY

    def test_envelope_dsn(self):
        request = self.factory.post("/api/1/envelope/")
        assert sentry_key_from_request(request, {"dsn": f"https://{KEY}@h/1"}) == KEY

    def test_header_wins_over_query_and_dsn(self):
        request = self.factory.post("/api/1/envelope/?sentry_key=fromquery", HTTP_X_SENTRY_AUTH="Sentry sentry_key=h")
        assert sentry_key_from_request(request, {"dsn": "https://fromdsn@h/1"}) == "h"

    def test_query_wins_over_dsn(self):
        request = self.factory.post("/api/1/envelope/?sentry_key=fromquery")
        assert sentry_key_from_request(request, {"dsn": "https://fromdsn@h/1"}) == "fromquery"

    def test_unrelated_authorization_falls_through(self):
        request = self.factory.post(f"/api/1/envelope/?sentry_key={KEY}", HTTP_AUTHORIZATION="Bearer token")
        assert sentry_key_from_request(request) == KEY

    def test_auth_header_without_key_falls_through(self):
        request = self.factory.post("/api/1/envelope/", HTTP_X_SENTRY_AUTH="Sentry sentry_version=7")
        assert sentry_key_from_request(request, {"dsn": f"https://{KEY}@h/1"}) == KEY

    @pytest.mark.parametrize("envelope_headers", [None, {}, {"dsn": None}, {"dsn": "https://h/1"}])
    def test_none(self, envelope_headers):
        request = self.factory.post("/api/1/envelope/?sentry_key=")
        assert sentry_key_from_request(request, envelope_headers) is None


class TestKeyMatches:
    project = SimpleNamespace(sentry_key=KEY)

    def test_match(self):
        assert key_matches(self.project, KEY)
        assert key_matches(self.project, f" {KEY} ")

    @pytest.mark.parametrize("key", ["", KEY.upper(), KEY[:-1], KEY + "0", "ключ", "\x00" * 32])
    def test_no_match(self, key):
        assert not key_matches(self.project, key)
