"""Content-addressed blobs (blobs.store, by FILE_STORE): files under `ARTIFACTS_DIR` (default `<data dir>/artifacts`)
named `<sha1[:2]>/<sha1[2:]>`, or rows of the main database keyed `artifact/<sha1>`.

Either way a blob is whole or absent (a file written to a temporary file, fsynced and renamed; rows written in one
transaction); the `FileBlob` row is made after the content is stored. Reading checks nothing (the name is the
checksum it was stored under).
"""

import hashlib
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from artifacts.models import FileBlob
from blobs.store import BlobStore

# a blob stored again after this long gets its created_at renewed (artifacts.retention counts its grace from it)
REFRESH_AFTER = timedelta(hours=1)


def root() -> Path:
    return Path(settings.ARTIFACTS_DIR)


def blob_path(checksum: str) -> Path:
    """Where a blob's file is with FILE_STORE=file."""
    if len(checksum) != 40 or any(c not in "0123456789abcdef" for c in checksum):
        raise ValueError("not a SHA-1 checksum")
    return root() / checksum[:2] / checksum[2:]


CONTENTS = BlobStore("artifact", blob_path)


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _record(checksum: str, size: int) -> FileBlob:
    try:
        with transaction.atomic():
            blob, _ = FileBlob.objects.get_or_create(checksum=checksum, defaults={"size": size})
            return blob
    except IntegrityError:
        return FileBlob.objects.get(checksum=checksum)


def store_blob(data: bytes, checksum: str | None = None) -> FileBlob:
    """Store bytes once; `checksum`, when given (a client's claim), must match the content or ValueError."""
    actual = sha1_of(data)
    if checksum is not None and checksum.lower() != actual:
        raise ValueError(f"checksum mismatch: expected {checksum}, content is {actual}")
    CONTENTS.put(actual, data)
    existing = FileBlob.objects.filter(checksum=actual).first()
    if existing:
        if timezone.now() - existing.created_at > REFRESH_AFTER:
            # stored again (a chunk uploaded anew): a fresh grace period before retention may take it
            FileBlob.objects.filter(pk=existing.pk).update(created_at=timezone.now())
        return existing
    return _record(actual, len(data))


def store_blob_pieces(checksum: str, pieces: Iterable[bytes], check: Callable[[], None]) -> FileBlob:
    """Store the concatenation of `pieces` as the blob `checksum`; `check()` (called once they are all read, the
    caller's hash of them complete) raises when they are not that content, and then nothing is stored."""
    size = CONTENTS.put_pieces(checksum, pieces, check)
    return _record(checksum, size)


def read_blob(blob: FileBlob) -> bytes:
    return CONTENTS.read(blob.checksum)


def open_blob(blob: FileBlob):
    return open_checksum(blob.checksum)


def open_checksum(checksum: str):
    """A seekable binary file of the blob's content; FileNotFoundError when it is not stored."""
    return CONTENTS.open(checksum)


def blob_size(checksum: str) -> int:
    return CONTENTS.size(checksum)


def delete_blob_file(checksum: str) -> None:
    CONTENTS.delete([checksum])


def blob_on_disk(checksum: str) -> bool:
    """Whether the blob's content is stored (as a file or in the database, by FILE_STORE)."""
    return CONTENTS.exists(checksum)
