from django import forms
from django.contrib import admin

from bugsink.links import HTTP_URL_RULE, is_http_url
from releases.models import Commit, Deploy, Release, Repository


class ReleaseAdminForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ["project", "version", "date_released", "date_created", "date_finalized", "ref", "url"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if url and not is_http_url(url):  # the release's page links to it (bugsink.links)
            raise forms.ValidationError(f"Enter {HTTP_URL_RULE}.", code="not_http_url")
        return url


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    form = ReleaseAdminForm
    list_display = ["version", "project", "date_released", "date_created", "date_finalized"]
    list_filter = ["project"]
    search_fields = ["version"]
    date_hierarchy = "date_released"


class RecordedBySentryCli(admin.ModelAdmin):
    """Commits and deploys are what sentry-cli reported: shown, and deletable, not edited or made here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Commit)
class CommitAdmin(RecordedBySentryCli):
    list_display = ["sha", "repository", "release", "author_name", "timestamp"]
    search_fields = ["sha", "repository", "message", "release__version"]
    list_select_related = ["release"]


@admin.register(Deploy)
class DeployAdmin(RecordedBySentryCli):
    list_display = ["release", "environment", "name", "date_finished"]
    list_filter = ["environment"]
    search_fields = ["release__version", "name"]
    list_select_related = ["release"]


@admin.register(Repository)
class RepositoryAdmin(RecordedBySentryCli):
    """Named by set-commits; deleting one takes it off /api/0/organizations/<org>/repos/ (its commits stay)."""

    list_display = ["name", "date_created"]
    list_filter = ["projects"]
    search_fields = ["name"]
