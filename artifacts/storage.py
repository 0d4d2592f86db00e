"""Content-addressed files under `ARTIFACTS_DIR` (default `<data dir>/artifacts`): `<sha1[:2]>/<sha1[2:]>`.

Written to a temporary file in the same folder, fsynced and renamed, so a file is either whole or absent; the
`FileBlob` row is made after the file exists. Reading checks nothing (the name is the checksum it was stored under).
"""

import hashlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from artifacts.models import FileBlob
from bugsink.files import ensure_private_dir, write_durably

# a blob stored again after this long gets its created_at renewed (artifacts.retention counts its grace from it)
REFRESH_AFTER = timedelta(hours=1)


def root() -> Path:
    return Path(settings.ARTIFACTS_DIR)


def blob_path(checksum: str) -> Path:
    if len(checksum) != 40 or any(c not in "0123456789abcdef" for c in checksum):
        raise ValueError("not a SHA-1 checksum")
    return root() / checksum[:2] / checksum[2:]


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _write_file(checksum: str, data: bytes) -> None:
    write_durably(blob_path(checksum), data)


def store_blob(data: bytes, checksum: str | None = None) -> FileBlob:
    """Store bytes once; `checksum`, when given (a client's claim), must match the content or ValueError."""
    actual = sha1_of(data)
    if checksum is not None and checksum.lower() != actual:
        raise ValueError(f"checksum mismatch: expected {checksum}, content is {actual}")
    _write_file(actual, data)
    existing = FileBlob.objects.filter(checksum=actual).first()
    if existing:
        if timezone.now() - existing.created_at > REFRESH_AFTER:
            # stored again (a chunk uploaded anew): a fresh grace period before retention may take it
            FileBlob.objects.filter(pk=existing.pk).update(created_at=timezone.now())
        return existing
    try:
        with transaction.atomic():
            return FileBlob.objects.create(checksum=actual, size=len(data))
    except IntegrityError:
        return FileBlob.objects.get(checksum=actual)


def read_blob(blob: FileBlob) -> bytes:
    return blob_path(blob.checksum).read_bytes()


def open_blob(blob: FileBlob):
    return blob_path(blob.checksum).open("rb")


def delete_blob_file(checksum: str) -> None:
    blob_path(checksum).unlink(missing_ok=True)


def temporary_file() -> tuple[int, Path]:
    """A new private temporary file beside the blobs (same filesystem: `store_blob_file` renames it into place)."""
    ensure_private_dir(root())
    fd, name = tempfile.mkstemp(dir=root(), prefix=".tmp-")
    return fd, Path(name)


def store_blob_file(path: Path, checksum: str, size: int) -> FileBlob:
    """Move a file whose SHA-1 the caller computed while writing it into place as that blob (or drop it when the
    blob is there already)."""
    target = blob_path(checksum)
    if target.exists() and target.stat().st_size == size:
        path.unlink(missing_ok=True)
    else:
        ensure_private_dir(target.parent)
        os.replace(path, target)
    try:
        with transaction.atomic():
            blob, _ = FileBlob.objects.get_or_create(checksum=checksum, defaults={"size": size})
            return blob
    except IntegrityError:
        return FileBlob.objects.get(checksum=checksum)


def blob_on_disk(checksum: str) -> bool:
    return blob_path(checksum).is_file()
