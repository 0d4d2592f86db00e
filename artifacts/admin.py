from django.contrib import admin

from artifacts.models import ArtifactBundle, BlobUpload, DebugIdArtifact, FileBlob, ReleaseFile


@admin.register(FileBlob)
class FileBlobAdmin(admin.ModelAdmin):
    list_display = ["checksum", "size", "created_at"]
    search_fields = ["checksum"]
    readonly_fields = ["checksum", "size", "created_at"]


@admin.register(BlobUpload)
class BlobUploadAdmin(admin.ModelAdmin):
    """Who uploaded which content: recorded by the chunk upload and assemble (artifacts.chunks), to look at only."""

    list_display = ["blob", "user", "uploaded_at"]
    search_fields = ["blob__checksum", "user__username"]
    readonly_fields = ["blob", "user", "uploaded_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DebugIdInline(admin.TabularInline):
    model = DebugIdArtifact
    extra = 0
    readonly_fields = ["debug_id", "file_type", "path", "url"]
    can_delete = False


@admin.register(DebugIdArtifact)
class DebugIdArtifactAdmin(admin.ModelAdmin):
    list_display = ["debug_id", "file_type", "url", "bundle"]
    list_filter = ["file_type"]
    search_fields = ["debug_id", "url"]
    readonly_fields = ["debug_id", "bundle", "file_type", "path", "url"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ArtifactBundle)
class ArtifactBundleAdmin(admin.ModelAdmin):
    list_display = ["bundle_id", "release", "dist", "artifact_count", "date_uploaded", "date_last_used"]
    list_filter = ["projects"]  # a project's bundles: one it should not have is deleted here (artifacts.split)
    search_fields = ["bundle_id", "release", "debug_ids__debug_id"]
    readonly_fields = ["bundle_id", "blob", "artifact_count", "date_uploaded", "date_last_used"]
    inlines = [DebugIdInline]


@admin.register(ReleaseFile)
class ReleaseFileAdmin(admin.ModelAdmin):
    list_display = ["name", "release", "dist", "project", "size", "date_created"]
    list_filter = ["project"]
    search_fields = ["name", "release"]
    readonly_fields = ["blob", "bundle", "bundle_path", "size", "date_created"]
