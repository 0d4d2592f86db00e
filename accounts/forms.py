import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from accounts.models import UserPreferences
from api.models import ApiToken


class PreferencesForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=[(z, z.replace("_", " ")) for z in sorted(zoneinfo.available_timezones())],
        help_text="Dates and times are shown in this zone.",
    )

    class Meta:
        model = UserPreferences
        fields = ["timezone", "theme"]
        widgets = {"theme": forms.RadioSelect}


class ProfileForm(forms.ModelForm):
    """Name and email address. A new address is not saved here: it takes effect when the person follows the link
    mailed to it (accounts.emails), so an address on an account is one its owner receives mail at."""

    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "email"]
        help_texts = {
            "email": "Alerts and password-reset links go here. A new address takes effect when you follow the link "
            "we mail to it."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_email = self.instance.email or ""

    def new_email(self) -> str:
        """The address asked for, when it is another than the current one ("" otherwise)."""
        wanted = (self.cleaned_data.get("email") or "").strip()
        return wanted if wanted and wanted.casefold() != self.current_email.strip().casefold() else ""

    def save(self, commit=True):
        self.instance.email = self.current_email  # unchanged until its link is followed
        return super().save(commit)


class SetupForm(UserCreationForm):
    """The first account on a fresh installation: a superuser."""

    email = forms.EmailField(
        required=False, help_text="Optional; needed for email alerts and to reset a forgotten password."
    )

    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]


class ApiTokenForm(forms.ModelForm):
    """A new personal API token: what it is for, and how much it may do."""

    class Meta:
        model = ApiToken
        fields = ["name", "scope"]
        widgets = {"scope": forms.RadioSelect}
