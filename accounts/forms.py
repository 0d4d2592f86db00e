import zoneinfo

from django import forms

from accounts.models import UserPreferences


class PreferencesForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=[(z, z) for z in sorted(zoneinfo.available_timezones())])

    class Meta:
        model = UserPreferences
        fields = ["timezone", "theme"]
