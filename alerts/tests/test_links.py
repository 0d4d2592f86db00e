"""Links in what alerts show: the admin's webhook form links the current URL only when it is http(s) (Django's own
widget also links ftp:// values), and an alert email makes no href of a BASE_URL that is not http(s)."""

import re

import pytest
from django.urls import reverse

from alerts.messages import Alert, build_email
from alerts.models import AlertChannel


@pytest.mark.parametrize("stored", ["ftp://hooks.example.com/x", "ftps://hooks.example.com/x"])
def test_the_admin_change_form_shows_a_non_http_webhook_url_as_a_value_not_a_link(admin_client, project, stored):
    """Written some other way than the forms (which refuse it): the shell, an older version."""
    channel = AlertChannel.objects.create(project=project, name="old hook", kind="webhook", url=stored)
    html = admin_client.get(reverse("admin:alerts_alertchannel_change", args=[channel.pk])).content.decode()
    assert f'value="{stored}"' in html  # still there to be corrected
    assert f'href="{stored}"' not in html and "Currently:" not in html


def test_the_admin_change_form_links_an_http_webhook_url(admin_client, project):
    channel = AlertChannel.objects.create(project=project, name="hook", kind="slack", url="https://hooks.example.com/x")
    html = admin_client.get(reverse("admin:alerts_alertchannel_change", args=[channel.pk])).content.decode()
    assert 'href="https://hooks.example.com/x"' in html and "Currently:" in html


def email_html(alert: Alert) -> str:
    return build_email(alert, "ann@example.com").alternatives[0][0]


def test_alert_email_links_go_to_the_issue(issue):
    html = email_html(Alert("new_issue", issue.project, issue))
    links = re.findall(r'href="([^"]*)"', html)
    assert links == [f"http://127.0.0.1:8000/issues/{issue.pk}/"] * 2


def test_alert_email_makes_no_href_of_a_base_url_that_is_not_http(settings, issue, project):
    """BASE_URL is checked when the settings load (bugsink/tests/test_links.py); the email checks again."""
    settings.BASE_URL = "javascript:alert(document.domain)//"
    for alert in (Alert("new_issue", project, issue), Alert("test", project)):
        html = email_html(alert)
        assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', html))
