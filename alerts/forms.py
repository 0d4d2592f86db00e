"""The forms of a project's alert settings page (alerts.views), and the save-time check of webhook URLs they share
with the admin.

A URL that resolves to a private (or otherwise non-public) address is refused with a form error right where it
was typed, instead of being saved and then failing at every alert. Sending checks again (alerts.outbound.post):
what a name resolves to can change after it was saved.
"""

from django import forms
from django.core.validators import URLValidator

from alerts import outbound
from alerts.models import AlertChannel
from projects.models import Project


def validate_webhook_target(url: str) -> None:
    try:
        outbound.check_target(url)
    except outbound.RefusedTarget as e:
        raise forms.ValidationError(f"Refused: {e}.", code="refused_target") from e
    except outbound.DeliveryFailed as e:  # the name does not resolve: most likely a typo
        raise forms.ValidationError(f"Cannot check this URL: {e}.", code="unresolvable_target") from e


class WebhookTargetMixin:
    """A ModelForm with a `url` field: the URL must be one we would post to."""

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if url:
            validate_webhook_target(url)
        return url


def _https_by_default(db_field, **kwargs):
    if db_field.name == "url":
        kwargs["assume_scheme"] = "https"  # a webhook URL typed without a scheme
    return db_field.formfield(**kwargs)


class AdminAlertChannelForm(WebhookTargetMixin, forms.ModelForm):
    class Meta:
        model = AlertChannel
        fields = ["project", "name", "kind", "url", "is_active"]
        formfield_callback = _https_by_default


class AlertSwitchesForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["alert_on_new_issue", "alert_on_regression", "alert_on_unmute"]
        labels = {
            "alert_on_new_issue": "A new issue is seen",
            "alert_on_regression": "A resolved issue comes back (regression)",
            "alert_on_unmute": "A muted issue is unmuted",
        }


class AlertChannelForm(WebhookTargetMixin, forms.ModelForm):
    url = forms.URLField(
        label="Webhook URL",
        max_length=2000,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")],
        help_text="Private, loopback and link-local addresses are refused unless the server allows them "
        "(ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS).",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
    )

    class Meta:
        model = AlertChannel
        fields = ["name", "kind", "url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = AlertChannel.Kind.choices  # no empty "------" choice
