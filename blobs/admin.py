from django.contrib import admin

from blobs.models import Blob


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    """Read only: the contents belong to the rows that name them (FileBlob, Attachment), which go with them."""

    list_display = ["key", "size", "created_at"]
    search_fields = ["key"]
    readonly_fields = ["key", "size", "chunk_size", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
