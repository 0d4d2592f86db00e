from django.contrib import admin

from releases.models import Commit, Deploy, Release


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
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
