from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import URLValidator
from django.utils.text import slugify

from alerts.models import AlertChannel
from projects.models import Project, ProjectMembership, Team, TeamMembership
from projects.people import teams_of

ROLE_CHOICES = ProjectMembership.Role.choices


class ProjectForm(forms.ModelForm):
    """Create a project: a name, optionally a slug (the short-id prefix) and a team whose members see it too."""

    class Meta:
        model = Project
        fields = ["name", "slug", "team"]
        help_texts = {
            "slug": "Short ids of issues start with it (myapp gives MYAPP-12). Leave empty to derive it from the name.",
            "team": "Members of the team see the project and may get its alerts.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["team"].queryset = teams_of(user)
        self.fields["team"].empty_label = "No team"

    def clean_slug(self) -> str:
        slug = slugify(self.cleaned_data.get("slug") or "")
        if slug and Project.objects.filter(slug=slug).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another project has this slug.")
        return slug


class ProjectSettingsForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "team"]
        help_texts = {"team": "Members of the team see the project and may get its alerts."}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # the teams the admin is in, plus the current one (which a superuser may have set)
        teams = teams_of(user)
        if self.instance.team_id:
            teams = Team.objects.filter(pk__in=teams.values("pk")) | Team.objects.filter(pk=self.instance.team_id)
        self.fields["team"].queryset = teams.distinct()
        self.fields["team"].empty_label = "No team"


class AlertSwitchesForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["alert_on_new_issue", "alert_on_regression", "alert_on_unmute"]
        labels = {
            "alert_on_new_issue": "A new issue is seen",
            "alert_on_regression": "A resolved issue comes back (regression)",
            "alert_on_unmute": "A muted issue is unmuted",
        }


class AlertChannelForm(forms.ModelForm):
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


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class AddMemberForm(forms.Form):
    user = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=ProjectMembership.Role.MEMBER)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=ProjectMembership.Role.MEMBER)


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]
        labels = {"name": "Team name"}


class TeamRoleForm(forms.Form):
    role = forms.ChoiceField(choices=TeamMembership.Role.choices)


class AddTeamMemberForm(forms.Form):
    user = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(choices=TeamMembership.Role.choices, initial=TeamMembership.Role.MEMBER)


class SignupForm(UserCreationForm):
    """An account for someone accepting an invitation; the address is the invitation's."""

    class Meta(UserCreationForm.Meta):
        fields = ["username"]
