"""The admin: both models listed, searchable, filterable; the "Send test alert" action on channels."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from alerts import dispatch
from alerts.models import AlertChannel, DeliveryAttempt


@pytest.fixture
def hook(project, receiver):
    return AlertChannel.objects.create(project=project, name="team hook", kind="webhook", url=receiver.url())


@pytest.mark.parametrize("model", [AlertChannel, DeliveryAttempt], ids=lambda m: m.__name__)
def test_changelist_search_filter_and_change_page(admin_client, allow_loopback, hook, issue, model):
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])  # one DeliveryAttempt
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = admin_client.get(changelist)
    assert response.status_code == 200 and response.context["cl"].result_count == 1
    assert admin_client.get(changelist, {"q": "hook"}).context["cl"].result_count == 1
    assert admin_client.get(changelist, {"q": "nothing like it"}).context["cl"].result_count == 0
    filter_field = "kind" if model is AlertChannel else "status"
    value = "webhook" if model is AlertChannel else "sent"
    assert admin_client.get(changelist, {f"{filter_field}__exact": value}).context["cl"].result_count == 1
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[model.objects.get().pk])
    assert admin_client.get(change).status_code == 200


def test_delivery_list_shows_issue_status_and_error(admin_client, allow_loopback, receiver, hook, issue):
    receiver.script = [404]
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
    content = admin_client.get(reverse("admin:alerts_deliveryattempt_changelist")).content.decode()
    assert "MYAPP-12" in content and "Failed" in content and "HTTP 404" in content


def test_send_test_alert_action(admin_client, allow_loopback, receiver, hook):
    changelist = reverse("admin:alerts_alertchannel_changelist")
    response = admin_client.post(changelist, {"action": "send_test_alert", "_selected_action": [hook.pk]}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Test alert sent to {hook}."]

    body = receiver.json()
    assert body["kind"] == "test" and body["issue"] is None and body["project"]["name"] == "My App"
    record = DeliveryAttempt.objects.get()
    assert (record.alert_kind, record.issue, record.channel, record.status) == ("test", None, hook, "sent")


def test_send_test_alert_action_reports_a_refusal(admin_client, project, monkeypatch):
    from alerts import outbound

    monkeypatch.setattr(outbound, "_connect", lambda *a: pytest.fail("a connection was attempted"))
    internal = AlertChannel.objects.create(
        project=project, name="metadata", kind="slack", url="http://169.254.169.254/"
    )
    changelist = reverse("admin:alerts_alertchannel_changelist")
    response = admin_client.post(
        changelist, {"action": "send_test_alert", "_selected_action": [internal.pk]}, follow=True
    )
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(f"Test alert to {internal} refused: 169.254.169.254 resolves to 169.254.169.254")
    assert DeliveryAttempt.objects.get().status == "refused"


def test_test_alert_payloads_for_chat(allow_loopback, receiver, project):
    from alerts.delivery import send_test_alert

    for kind in ("slack", "discord"):
        channel = AlertChannel.objects.create(project=project, name=kind, kind=kind, url=receiver.url(f"/{kind}"))
        assert send_test_alert(channel).sent
    slack, discord = receiver.json(0), receiver.json(1)
    assert "Test alert from Culvert for project My App" in slack["text"]
    assert "Test alert from Culvert for project My App" in discord["content"]


def test_channel_secret_is_generated_and_shown_read_only(admin_client, hook):
    assert (
        len(hook.secret) == 64
        and hook.secret
        != AlertChannel.objects.create(
            project=hook.project, name="other", kind="webhook", url="https://example.com/"
        ).secret
    )
    content = admin_client.get(reverse("admin:alerts_alertchannel_change", args=[hook.pk])).content.decode()
    assert hook.secret in content and 'name="secret"' not in content


def test_delivery_records_are_read_only(admin_client):
    assert admin_client.get(reverse("admin:alerts_deliveryattempt_add")).status_code == 403
