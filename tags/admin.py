from django.contrib import admin

from tags.models import IssueTag, TagValue


@admin.register(TagValue)
class TagValueAdmin(admin.ModelAdmin):
    list_display = ["key", "value", "project"]
    list_filter = ["project", "key"]
    search_fields = ["key", "value"]
    list_select_related = ["project"]


@admin.register(IssueTag)
class IssueTagAdmin(admin.ModelAdmin):
    list_display = ["value", "issue", "count"]
    search_fields = ["value__key", "value__value"]
    list_select_related = ["value", "issue", "issue__project"]
    raw_id_fields = ["issue", "value"]
