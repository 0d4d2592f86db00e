from django.contrib import admin

from blobs.models import Blob, BlobChunk


class ReadOnlyAdmin(admin.ModelAdmin):
    """To look at only: contents belong to the rows that name them (FileBlob, Attachment) and go with them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdmin):
    list_display = ["key", "size", "created_at"]
    search_fields = ["key"]
    fields = readonly_fields = ["key", "size", "chunk_size", "created_at"]


@admin.register(BlobChunk)
class BlobChunkAdmin(ReadOnlyAdmin):
    list_display = ["blob", "index", "length"]
    list_select_related = ["blob"]
    search_fields = ["blob__key"]
    fields = readonly_fields = ["blob", "index", "length"]  # not the bytes themselves

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data")

    @admin.display(description="bytes")
    def length(self, chunk: BlobChunk) -> int:
        return len(BlobChunk.objects.filter(pk=chunk.pk).values_list("data", flat=True).first() or b"")
