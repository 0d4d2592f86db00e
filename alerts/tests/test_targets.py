"""Which webhook targets are refused: by address class, including IPv4 addresses hidden in IPv6 forms; at save
time (the project's channel form and the admin: an error, nothing saved) and again at send time.

URLs carry literal addresses, so nothing here needs DNS; `localhost` resolves from /etc/hosts."""

import socket

import pytest
from django.urls import reverse

from alerts import outbound
from alerts.models import AlertChannel, DeliveryAttempt
from projects.models import ProjectMembership

REFUSED = [
    "http://127.0.0.1/",
    "http://127.8.9.10:8080/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.20:3000/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://192.0.2.1/",  # documentation
    "http://198.18.0.1/",  # benchmarking
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://localhost:9000/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://[fec0::1]/",  # site-local
    "http://[2001:db8::1]/",
    "http://[100::1]/",  # discard-only
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.1.2.3]/",
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://[2002:c0a8:0101::1]/",  # 6to4 of 192.168.1.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo, client 192.0.2.45
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[64:ff9b:1::808:808]/",  # local-use NAT64, even towards a public address
    "http://[::7f00:1]/",  # IPv4-compatible 127.0.0.1
    "http://[::a9fe:a9fe]/",  # IPv4-compatible 169.254.169.254
    "http://[::a00:1]/",  # IPv4-compatible 10.0.0.1
]

ALLOWED = [
    "https://93.184.216.34/hook",
    "http://8.8.8.8:8080/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[2002:808:808::1]/hook",  # 6to4 of a public address
    "https://[64:ff9b::808:808]/hook",  # NAT64 of a public address
    "https://[::ffff:8.8.8.8]/hook",  # IPv4-mapped public address
]


@pytest.fixture
def no_connect(monkeypatch):
    monkeypatch.setattr(outbound, "_connect", lambda *a: pytest.fail("a connection was attempted"))


@pytest.mark.parametrize("url", REFUSED)
def test_refused_at_save_and_at_send(no_connect, url):
    with pytest.raises(outbound.RefusedTarget, match="not a public address"):
        outbound.check_target(url)
    with pytest.raises(outbound.RefusedTarget, match="not a public address"):
        outbound.post(url, b"{}")


@pytest.mark.parametrize("url", ALLOWED)
def test_public_targets_pass(url):
    outbound.check_target(url)


def test_the_refusal_names_the_hidden_address():
    with pytest.raises(outbound.RefusedTarget, match=r"2002:7f00:1::1.*loopback address in disguise \(127\.0\.0\.1\)"):
        outbound.check_target("http://[2002:7f00:1::1]/")


def test_the_setting_allows_private_targets(settings):
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = True
    for url in ("http://127.0.0.1:8080/", "http://[2002:7f00:1::1]/", "http://localhost/", "http://10.0.0.5/"):
        outbound.check_target(url)


# --- save time: the project's alert settings page and the admin -------------------------------------------------


@pytest.fixture
def admin_of_project(project, django_user_model, client):
    user = django_user_model.objects.create_user("olga", "olga@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role="admin")
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[2002:7f00:1::1]/hook", "http://localhost/x"])
def test_the_channel_form_refuses_a_private_target(admin_of_project, project, url):
    response = admin_of_project.post(
        reverse("projects:channel_create", args=[project.pk]), {"name": "X", "kind": "slack", "url": url}
    )
    assert response.status_code == 200
    (error,) = response.context["channel_form"].errors["url"]
    assert error.startswith("Refused: ") and "not a public address" in error
    assert "not a public address" in response.content.decode()
    assert not AlertChannel.objects.exists()


def test_the_channel_form_refuses_a_name_that_does_not_resolve(admin_of_project, project, monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    response = admin_of_project.post(
        reverse("projects:channel_create", args=[project.pk]),
        {"name": "X", "kind": "slack", "url": "https://hooks.example.invalid/x"},
    )
    assert response.status_code == 200
    assert "cannot resolve hooks.example.invalid" in response.context["channel_form"].errors["url"][0]
    assert not AlertChannel.objects.exists()


def test_the_channel_form_accepts_public_and_with_the_setting_private_targets(admin_of_project, project, settings):
    create = reverse("projects:channel_create", args=[project.pk])
    assert admin_of_project.post(create, {"name": "A", "kind": "slack", "url": ALLOWED[0]}).status_code == 302
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = True
    assert admin_of_project.post(create, {"name": "B", "kind": "slack", "url": "http://10.0.0.5/"}).status_code == 302
    assert sorted(AlertChannel.objects.values_list("url", flat=True)) == ["http://10.0.0.5/", ALLOWED[0]]


def test_the_admin_refuses_a_private_target_on_add_and_change(admin_client, project):
    add = reverse("admin:alerts_alertchannel_add")
    data = {"project": project.pk, "name": "meta", "kind": "slack", "url": "http://[::ffff:169.254.169.254]/"}
    response = admin_client.post(add, {**data, "is_active": "on"})
    assert response.status_code == 200
    assert "not a public address" in " ".join(response.context["adminform"].form.errors["url"])
    assert not AlertChannel.objects.exists()

    assert admin_client.post(add, {**data, "url": ALLOWED[0], "is_active": "on"}).status_code == 302
    channel = AlertChannel.objects.get()
    change = reverse("admin:alerts_alertchannel_change", args=[channel.pk])
    response = admin_client.post(change, {**data, "url": "http://[64:ff9b::a9fe:a9fe]/", "is_active": "on"})
    assert response.status_code == 200
    channel.refresh_from_db()
    assert channel.url == ALLOWED[0]


# --- send time: a name that resolved to a public address when saved, and to a private one later -----------------


def test_a_name_that_turns_private_after_saving_is_refused_at_send(admin_of_project, project, monkeypatch, no_connect):
    answers = {"hooks.rebind.test": "93.184.216.34"}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    response = admin_of_project.post(
        reverse("projects:channel_create", args=[project.pk]),
        {"name": "Rebind", "kind": "webhook", "url": "https://hooks.rebind.test/in"},
    )
    assert response.status_code == 302
    channel = AlertChannel.objects.get()

    answers["hooks.rebind.test"] = "169.254.169.254"
    admin_of_project.post(reverse("projects:channel_test", args=[project.pk, channel.pk]))
    record = DeliveryAttempt.objects.get()
    assert record.status == "refused"
    assert "169.254.169.254" in record.error
