"""The ingest fast path (ingest.fastpath) answers every kind of ingest request exactly as the full middleware stack
did (status, body, headers; only `Vary: Cookie` is gone), and takes nothing else."""

import gzip
import json
import logging
import uuid

import pytest
from django.conf import settings as django_settings
from django.http import JsonResponse
from django.test import Client
from django.urls import clear_url_caches, re_path, reverse
from django.utils import timezone

from ingest import urls as ingest_urls
from testing.utils import auth_header, exception_event, make_envelope

FAST_PATH = "ingest.fastpath.IngestFastPathMiddleware"
UNCOMPARED = {"Vary"}  # set by the session middleware when the time-zone middleware looked at request.user


def without_fast_path(settings):
    settings.MIDDLEWARE = [m for m in django_settings.MIDDLEWARE if m != FAST_PATH]


def requests(project):
    """(name, method, path, body, extra) for each kind of answer ingest gives; fixed event ids, so that both
    stacks answer with the same body."""
    key = f"sentry_key={project.sentry_key}"
    envelope = make_envelope(exception_event(), event_id="a" * 32)
    return [
        ("envelope", "post", f"/api/{project.pk}/envelope/", envelope, auth_header(project)),
        ("no slash", "post", f"/api/{project.pk}/envelope", make_envelope({}, event_id="b" * 32), auth_header(project)),
        ("dsn prefix", "post", f"/sub/path/api/{project.pk}/envelope/?{key}", make_envelope({}, event_id="c" * 32), {}),
        (
            "gzip store",
            "post",
            f"/api/{project.pk}/store/",
            gzip.compress(json.dumps({"event_id": "d" * 32, "message": "hi"}).encode()),
            {**auth_header(project), "HTTP_CONTENT_ENCODING": "gzip"},
        ),
        ("no key", "post", f"/api/{project.pk}/envelope/", envelope, {}),
        ("wrong key", "post", f"/api/{project.pk}/envelope/?sentry_key={'0' * 32}", envelope, {}),
        ("unknown project", "post", f"/api/{project.pk + 1000}/envelope/?{key}", envelope, {}),
        ("not a number", "post", f"/api/x%0Ay/store/?{key}", b"{}", {}),
        ("bad json", "post", f"/api/{project.pk}/store/", b"{nope", auth_header(project)),
        ("bad envelope", "post", f"/api/{project.pk}/envelope/", b"\x00\xff garbage", auth_header(project)),
        (
            "too large",
            "post",
            f"/api/{project.pk}/store/",
            b"{}",
            {**auth_header(project), "CONTENT_LENGTH": str(10**9)},
        ),
        ("bad length", "post", f"/api/{project.pk}/store/", b"{}", {**auth_header(project), "CONTENT_LENGTH": "x"}),
        ("get", "get", f"/api/{project.pk}/envelope/", None, {}),
        (
            "preflight",
            "options",
            f"/api/{project.pk}/envelope/",
            None,
            {"HTTP_ORIGIN": "https://app.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"},
        ),
        ("bad host", "post", f"/api/{project.pk}/envelope/", envelope, {**auth_header(project), "HTTP_HOST": "x.bad"}),
    ]


def send(client, method, path, body, extra):
    if method == "post":
        return client.post(path, data=body, content_type="application/x-sentry-envelope", **extra)
    return getattr(client, method)(path, **extra)


def answer(response):
    headers = {name: value for name, value in response.headers.items() if name not in UNCOMPARED}
    return response.status_code, response.content, headers


@pytest.mark.django_db
def test_every_kind_of_ingest_answer_is_the_same_without_the_middleware(project, settings, caplog):
    caplog.set_level(logging.CRITICAL, logger="django.security.DisallowedHost")
    fast = {name: answer(send(Client(), *rest)) for name, *rest in requests(project)}
    without_fast_path(settings)
    full = {name: answer(send(Client(), *rest)) for name, *rest in requests(project)}

    assert fast == full
    # and the list covers what it should: successes, each refusal, the preflight and the host check
    statuses = {name: status for name, (status, _, _) in fast.items()}
    assert statuses == {
        "envelope": 200,
        "no slash": 200,
        "dsn prefix": 200,
        "gzip store": 200,
        "no key": 401,
        "wrong key": 403,
        "unknown project": 404,
        "not a number": 404,
        "bad json": 400,
        "bad envelope": 400,
        "too large": 413,
        "bad length": 400,
        "get": 405,
        "preflight": 200,
        "bad host": 400,
    }


@pytest.mark.django_db
def test_ingest_skips_the_page_middleware_and_pages_do_not(project, client):
    ingest = client.post(
        f"/api/{project.pk}/envelope/",
        data=make_envelope(exception_event(), event_id=uuid.uuid4().hex),
        content_type="application/x-sentry-envelope",
        **auth_header(project),
    )
    assert ingest.status_code == 200
    assert not hasattr(ingest.wsgi_request, "session") and not hasattr(ingest.wsgi_request, "user")
    assert "Vary" not in ingest.headers

    # a path with /api/ in it that is not one of the two ingest URLs: the whole stack
    page = client.get("/api/0/organizations/")
    assert hasattr(page.wsgi_request, "session") and hasattr(page.wsgi_request, "user")


@pytest.mark.django_db
def test_the_https_redirect_still_applies_to_ingest(project, client, settings):
    """SecurityMiddleware runs before the fast path: with SECURE_SSL_REDIRECT an http request is redirected."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.post(
        f"/api/{project.pk}/envelope/", data=b"", content_type="application/x-sentry-envelope", **auth_header(project)
    )
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.django_db
def test_a_page_time_zone_does_not_follow_the_thread_into_ingest(project, client):
    timezone.activate("Asia/Tokyo")
    try:
        client.post(
            f"/api/{project.pk}/envelope/",
            data=make_envelope(exception_event(), event_id=uuid.uuid4().hex),
            content_type="application/x-sentry-envelope",
            **auth_header(project),
        )
        assert timezone.get_current_timezone_name() == "UTC"
    finally:
        timezone.deactivate()


def probe(request, project_id):
    """A route's view that says which path served it: the full stack's middleware gives every request a user."""
    return JsonResponse({"project": project_id, "full_stack": hasattr(request, "user")})


@pytest.mark.django_db
def test_a_route_added_to_the_intake_table_is_served_by_both_paths(settings):
    # one table (ingest.urls) for both: bugsink.urls includes it, the fast path resolves with it
    added = re_path(r"^(?:.+/)?api/(?P<project_id>[^/]+)/probe/?$", probe, name="ingest-probe")
    ingest_urls.urlpatterns.append(added)
    clear_url_caches()
    try:
        assert reverse("ingest-probe", kwargs={"project_id": "7"}) == "/api/7/probe"
        fast = Client().post("/prefix/api/7/probe/")
        assert fast.status_code == 200 and fast.json() == {"project": "7", "full_stack": False}
        without_fast_path(settings)
        full = Client().post("/prefix/api/7/probe/")
        assert full.status_code == 200 and full.json() == {"project": "7", "full_stack": True}
    finally:
        ingest_urls.urlpatterns.remove(added)
        clear_url_caches()
    assert Client().post("/api/7/probe/").status_code == 404
