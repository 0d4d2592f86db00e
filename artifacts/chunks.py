"""Chunks of sentry-cli's chunked uploads: each is stored as a blob under its SHA-1, after checking that the
content is what its name claims. A gzip'd chunk is decompressed with its output bounded by the chunk size we
announced, so a small compressed chunk cannot expand into gigabytes. Chunks wait (as blobs nothing refers to) for the
assemble call that joins them; the retention deletes those never assembled (artifacts.retention).

Blobs are shared by content, whoever uploaded them, so a checksum alone is no proof of having the content: each upload
is recorded for its user (`BlobUpload`), and an assemble counts only the chunks its caller uploaded (the others are
"missing", and sentry-cli sends them)."""

import re
import zlib

from django.conf import settings
from django.db import IntegrityError, transaction

from artifacts.models import BlobUpload, FileBlob
from artifacts.storage import sha1_of, store_blob

SHA1 = re.compile(r"^[0-9a-f]{40}$")
READ_SIZE = 64 * 1024


class ChunkError(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def read_plain(stream, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ChunkError(413, f"A chunk may have at most {limit} bytes.")
    return data


def gunzip_bounded(stream, limit: int) -> bytes:
    """The gzip member in `stream`, decompressed; ChunkError 413 past `limit` bytes, 400 when it is not gzip."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        while not decompressor.eof:
            piece = stream.read(READ_SIZE)
            if not piece:
                break
            while piece and not decompressor.eof:
                # never more than one byte past the limit: that byte says the chunk is too large
                out += decompressor.decompress(piece, limit + 1 - len(out))
                if len(out) > limit:
                    raise ChunkError(413, f"A chunk may have at most {limit} bytes once decompressed.")
                piece = decompressor.unconsumed_tail
    except zlib.error:
        raise ChunkError(400, "A chunk sent as file_gzip is not valid gzip.") from None
    if not decompressor.eof:
        raise ChunkError(400, "A chunk sent as file_gzip is truncated.")
    return bytes(out)


def record_upload(blob: FileBlob, user_id: int) -> None:
    """`user_id` has sent this content (or chunks that joined into it)."""
    if BlobUpload.objects.filter(blob=blob, user_id=user_id).exists():
        return
    try:
        with transaction.atomic():
            BlobUpload.objects.create(blob=blob, user_id=user_id)
    except IntegrityError:
        pass  # a parallel request of the same user recorded it


def uploaded_by(user_id: int, checksums) -> set[str]:
    """The checksums among `checksums` whose content `user_id` has uploaded."""
    return set(
        BlobUpload.objects.filter(user_id=user_id, blob__checksum__in=set(checksums)).values_list(
            "blob__checksum", flat=True
        )
    )


def store_chunk(name: str, stream, compressed: bool, user_id: int) -> FileBlob:
    """Store one uploaded chunk, named by the SHA-1 of its (decompressed) content, as uploaded by `user_id`."""
    checksum = (name or "").strip().lower()
    if not SHA1.match(checksum):
        raise ChunkError(400, "Each chunk's file name must be the SHA-1 of its content (40 hex digits).")
    limit = settings.CHUNK_UPLOAD_CHUNK_SIZE
    data = gunzip_bounded(stream, limit) if compressed else read_plain(stream, limit)
    if sha1_of(data) != checksum:
        raise ChunkError(400, f"Chunk {checksum} does not match its checksum.")
    blob = store_blob(data, checksum)
    record_upload(blob, user_id)
    return blob
