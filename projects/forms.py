from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.text import slugify

from projects.models import SCRUB_FIELDS, Project, Role, Team
from projects.people import teams_of
from projects.scrub_settings import parse_field_names

ROLE_CHOICES = Role.choices


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


LIMIT_FIELDS = {
    # field: (label, the installation-wide setting it overrides, unit)
    "retention_max_events": ("Keep at most this many events", "RETENTION_MAX_EVENTS", "events"),
    "retention_max_age_days": ("Keep events for at most", "RETENTION_MAX_AGE_DAYS", "days"),
    "quota_events_per_minute": ("Accept at most, per minute", "QUOTA_EVENTS_PER_MINUTE", "events"),
    "quota_events_per_hour": ("Accept at most, per hour", "QUOTA_EVENTS_PER_HOUR", "events"),
}


class ProjectSettingsForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "slug", "team", *LIMIT_FIELDS, *SCRUB_FIELDS]
        help_texts = {
            "team": "Members of the team see the project and may get its alerts.",
            "slug": "Short ids of issues start with it (myapp gives MYAPP-12), and the API's URLs and sentry-cli name "
            "the project by it. Letters, digits, dashes and underscores. Links to the project and its issues by id "
            "keep working when it changes; short ids with the old slug do not.",
        }
        widgets = {
            "scrub_sensitive_fields": forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. ssn\nsk_live_"}),
            "scrub_safe_fields": forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. author_token"}),
        }

    def __init__(self, *args, user, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        for name, (label, setting, unit) in LIMIT_FIELDS.items():
            default = getattr(settings, setting)
            field = self.fields[name]
            field.label = label
            field.required = False
            field.min_value = 0
            field.widget.attrs.update({"min": 0, "placeholder": f"{default or 'no limit'}"})
            field.help_text = (
                f"{unit.capitalize()}; empty: the installation's default ({default or 'no limit'}), 0: no limit."
            )
        self.fields["slug"].required = False
        # the teams the admin is in, plus the current one (which a superuser may have set)
        teams = teams_of(user)
        if self.instance.team_id:
            teams = Team.objects.filter(pk__in=teams.values("pk")) | Team.objects.filter(pk=self.instance.team_id)
        self.fields["team"].queryset = teams.distinct()
        self.fields["team"].empty_label = "No team"

    def _field_names(self, name: str) -> str:
        try:
            return "\n".join(parse_field_names(self.cleaned_data.get(name) or ""))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_slug(self) -> str:
        given = (self.cleaned_data.get("slug") or "").strip()
        if not given:  # left empty (or not sent by an older form): the slug stays
            return self.instance.slug
        slug = slugify(given)
        if not slug:
            raise forms.ValidationError("A slug needs at least one letter or digit.")
        if slug != given.lower():
            raise forms.ValidationError(f"Only letters, digits, dashes and underscores: {slug} would do.")
        if Project.objects.filter(slug=slug).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another project has this slug.")
        return slug

    def clean_scrub_sensitive_fields(self) -> str:
        return self._field_names("scrub_sensitive_fields")

    def clean_scrub_safe_fields(self) -> str:
        return self._field_names("scrub_safe_fields")


class DeleteProjectForm(forms.Form):
    name = forms.CharField(label="Type the project's name to confirm", max_length=255)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name.strip() != self.project.name:
            raise forms.ValidationError("That is not the project's name; nothing was deleted.")
        return name


class RotateKeyForm(forms.Form):
    grace_hours = forms.IntegerField(
        label="Old key keeps working for",
        min_value=0,
        max_value=720,
        help_text="Hours (0 to 720); 0 revokes the old key at once.",
    )

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["grace_hours"].initial = settings.KEY_ROTATION_GRACE_HOURS


class AddKeyForm(forms.Form):
    label = forms.CharField(label="Label", max_length=100, required=False, help_text="What the key is for.")


class RoleForm(forms.Form):
    """A member's new role, in a project or a team."""

    role = forms.ChoiceField(choices=ROLE_CHOICES)


class AddMemberForm(forms.Form):
    """Someone with an account, into a project or a team."""

    user = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.MEMBER)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.MEMBER)
    anyone_with_link = forms.BooleanField(
        label="Anyone with this link may join",
        required=False,
        help_text="Off: only the user with this email address can accept the invitation.",
    )


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]
        labels = {"name": "Team name"}


class SignupForm(UserCreationForm):
    """An account for someone accepting an invitation. An invitation bound to its address gives the account that
    address (the view sets it); one for anyone with the link lets the newcomer give their own."""

    class Meta(UserCreationForm.Meta):
        fields = ["username"]

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        if invitation.anyone_with_link:
            self.fields["email"] = forms.EmailField(
                label="Email", required=False, help_text="For email alerts and to reset a forgotten password."
            )
