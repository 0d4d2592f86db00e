"""File contents kept in the main database (FILE_STORE=database, see blobs.store): one `Blob` row per content key,
its bytes in `BlobChunk` rows of at most `Blob.chunk_size` bytes each, so that no single statement comes near
MariaDB/MySQL's max_allowed_packet (16 MiB by default) however large the content is."""

from django.db import models
from django.utils import timezone


class Blob(models.Model):
    # "<kind>/<name>": artifact/<sha1> (artifacts.storage), attachment/<project id>/<sha1> (events.models)
    key = models.CharField(max_length=100, unique=True)
    size = models.PositiveBigIntegerField(default=0)
    chunk_size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.key} ({self.size} bytes)"


class BlobChunk(models.Model):
    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blob", "index"], name="unique_blob_chunk")]

    def __str__(self) -> str:
        return f"{self.blob_id}#{self.index}"
