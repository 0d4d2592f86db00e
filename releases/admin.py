from django.contrib import admin

from releases.models import Release


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["version", "project", "date_released"]
    list_filter = ["project"]
    search_fields = ["version"]
    date_hierarchy = "date_released"
