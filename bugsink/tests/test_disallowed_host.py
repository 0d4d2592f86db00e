"""A request for a host not in ALLOWED_HOSTS: a 400, and one warning line in the log instead of a traceback."""

import logging

import pytest


@pytest.mark.django_db
def test_a_bad_host_header_is_one_warning_line_and_a_400(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/accounts/login/", HTTP_HOST="scanner.example")
    assert response.status_code == 400

    (record,) = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert record.levelname == "WARNING"
    assert record.exc_info is None and record.exc_text is None
    assert "Invalid HTTP_HOST header: 'scanner.example'" in record.getMessage()
    assert "Traceback" not in caplog.text
    # and nothing else complains about it (django.request logs 4xx only from ERROR up)
    assert [r.name for r in caplog.records] == ["django.security.DisallowedHost"]


@pytest.mark.django_db
def test_a_long_host_is_cut_short(client, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/", HTTP_HOST="a" * 2000 + ".example").status_code == 400
    (record,) = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert len(record.getMessage()) <= 301 and record.getMessage().endswith("…")
