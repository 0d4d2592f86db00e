"""What sentry-cli uploads for JavaScript symbolication, and the content-addressed files behind it.

- `FileBlob`: content stored once per SHA-1, as a file or in the database (artifacts.storage, FILE_STORE); upload
  chunks and assembled files alike. Uploading the same bytes twice stores them once.
- `BlobUpload`: who uploaded a blob's content. Blobs are shared by content across tenants, so knowing a checksum
  (sentry-cli prints them) is not having the content: an assemble uses only the chunks its caller uploaded.
- `ArtifactBundle`: a zip made by `sentry-cli sourcemaps upload` (a manifest plus minified files and their maps),
  of one project, found by the debug ids inside it (`DebugIdArtifact`) or by release + dist + file name
  (`ReleaseFile` rows pointing into the bundle). An upload for several projects makes one bundle row per project
  (the zip is stored once); the bundle id in the manifest is the client's word and identifies nothing here.
  Bundles of several projects are what earlier versions made; `manage.py split_shared_bundles` splits them.
- `ReleaseFile`: one file of a release by its name (`~/static/app.min.js` or a full URL): uploaded on its own
  (the legacy release-files API) or as part of a bundle uploaded with `--release`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class FileBlob(models.Model):
    checksum = models.CharField(max_length=40, unique=True, help_text="SHA-1 of the content, hex")
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.checksum} ({self.size} bytes)"


class BlobUpload(models.Model):
    """`user` sent this blob's content: as a chunk, or as the chunks an assemble of theirs joined into it."""

    blob = models.ForeignKey(FileBlob, on_delete=models.CASCADE, related_name="uploads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blob", "user"], name="unique_blob_upload")]

    def __str__(self) -> str:
        return f"{self.blob_id} by {self.user_id}"


class ArtifactBundle(models.Model):
    # one project (an M2M because earlier versions shared a bundle between projects: split_shared_bundles)
    projects = models.ManyToManyField("projects.Project", related_name="artifact_bundles")
    bundle_id = models.UUIDField(
        help_text="the bundle's id from its manifest (or derived from its checksum); not unique: the client's word"
    )
    blob = models.ForeignKey(FileBlob, on_delete=models.PROTECT, related_name="bundles")
    release = models.CharField(max_length=250, blank=True, default="")
    dist = models.CharField(max_length=64, blank=True, default="")
    artifact_count = models.PositiveIntegerField(default=0)
    date_uploaded = models.DateTimeField(default=timezone.now)
    # bumped (at most daily) when symbolication reads it: retention keeps bundles that are in use
    date_last_used = models.DateTimeField(default=timezone.now)
    # when symbolication last read it (None: never), for the release's artifacts page; bumped at most every
    # artifacts.lookup.LAST_SEEN_RESOLUTION, so that digest does not write per event
    last_symbolicated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"bundle {self.bundle_id}"


class DebugIdArtifact(models.Model):
    """A file in a bundle that carries a debug id (`sentry-cli sourcemaps inject`), by its type."""

    class FileType(models.TextChoices):
        MINIFIED_SOURCE = "minified_source"
        SOURCE_MAP = "source_map"
        SOURCE = "source"
        INDEXED_RAM_BUNDLE = "indexed_ram_bundle"

    debug_id = models.UUIDField(db_index=True)
    bundle = models.ForeignKey(ArtifactBundle, on_delete=models.CASCADE, related_name="debug_ids")
    file_type = models.CharField(max_length=32, choices=FileType.choices)
    # the file's path inside the bundle zip and its URL (`~/app.min.js`)
    path = models.CharField(max_length=1024)
    url = models.CharField(max_length=1024, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["debug_id", "file_type"], name="debug_id_artifact_lookup")]

    def __str__(self) -> str:
        return f"{self.debug_id} {self.file_type}"


class ReleaseFile(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="release_files")
    release = models.CharField(max_length=250)
    dist = models.CharField(max_length=64, blank=True, default="")
    # as the CLI names it: `~/static/app.min.js` (any host) or a full URL
    name = models.CharField(max_length=1024)
    # where the content is: a blob of its own (legacy upload) or a path inside a bundle
    blob = models.ForeignKey(FileBlob, null=True, blank=True, on_delete=models.PROTECT, related_name="release_files")
    bundle = models.ForeignKey(
        ArtifactBundle, null=True, blank=True, on_delete=models.CASCADE, related_name="release_files"
    )
    bundle_path = models.CharField(max_length=1024, blank=True, default="")
    headers = models.JSONField(default=dict, blank=True, help_text="e.g. {'Sourcemap': 'app.min.js.map'}")
    size = models.PositiveBigIntegerField(default=0)
    date_created = models.DateTimeField(default=timezone.now)
    # like a bundle's: bumped (at most daily) by whoever reads it, so that retention keeps files in use
    date_last_used = models.DateTimeField(default=timezone.now)
    last_symbolicated_at = models.DateTimeField(null=True, blank=True)  # as a bundle's

    class Meta:
        indexes = [models.Index(fields=["project", "release", "dist"], name="release_file_lookup")]

    def __str__(self) -> str:
        return f"{self.release} {self.name}"
