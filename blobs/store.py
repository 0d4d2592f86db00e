"""Content-named files, kept either as files or in the main database, by FILE_STORE:

- `file` (the default): a file per content under its folder (ARTIFACTS_DIR, ATTACHMENTS_DIR), written durably
  (bugsink.files.write_durably): whole or absent;
- `database` (the default with INGEST_STORE=database): a `blobs.models.Blob` row per content, its bytes in
  `BlobChunk` rows of at most CHUNK_SIZE bytes, all written in one transaction: whole or absent too. Web nodes and
  digest workers then share no folder, only the database.

A `BlobStore` is one kind of content (artifact blobs, attachments), its names given by the caller and its file
layout by `path_of`. Names are content hashes, so storing a name again is a no-op, and two processes storing the
same name at once both succeed (the second finds the first's row: the unique key's IntegrityError is expected).
The mode is read on every call, so a test may switch it with the settings fixture.
"""

import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from blobs.models import Blob, BlobChunk
from bugsink.files import ensure_private_dir, write_durably

# One BlobChunk row: far under MariaDB/MySQL's max_allowed_packet (16 MiB) even escaped, and a bounded amount of
# memory per reader.
CHUNK_SIZE = 1024 * 1024


def database_mode() -> bool:
    return settings.FILE_STORE == "database"


def rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The bytes of `pieces` again, in blocks of exactly `size` bytes (the last one shorter, none empty)."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


class DatabaseBlobFile(io.RawIOBase):
    """A stored Blob as a read-only, seekable binary file (what zipfile and FileResponse need): one chunk row is
    fetched at a time, when a read reaches it."""

    def __init__(self, blob: Blob):
        super().__init__()
        self.blob_id, self.size, self.chunk_size = blob.pk, blob.size, blob.chunk_size
        self.position = 0
        self._index, self._data = -1, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.position = base + offset
        return self.position

    def _chunk(self, index: int) -> bytes:
        if index != self._index:
            row = BlobChunk.objects.filter(blob_id=self.blob_id, index=index).values_list("data", flat=True).first()
            if row is None:
                raise OSError(f"blob {self.blob_id} has lost its chunk {index}")
            self._index, self._data = index, bytes(row)
        return self._data

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError("read of a closed file")
        if self.position >= self.size or not len(buffer):
            return 0
        index, offset = divmod(self.position, self.chunk_size)
        data = self._chunk(index)[offset:]
        if not data:
            raise OSError(f"blob {self.blob_id} is shorter than its size")
        count = min(len(buffer), len(data), self.size - self.position)
        buffer[:count] = data[:count]
        self.position += count
        return count

    def read(self, size: int = -1) -> bytes:
        """`size` bytes (all that is left when negative), fewer only at the end: zipfile expects whole reads."""
        if size is None or size < 0:
            size = max(self.size - self.position, 0)
        out = bytearray(min(size, max(self.size - self.position, 0)))
        view, filled = memoryview(out), 0
        while filled < len(out):
            count = self.readinto(view[filled:])
            if not count:
                break
            filled += count
        return bytes(out[:filled])

    def readall(self) -> bytes:
        return self.read()


class BlobStore:
    def __init__(self, kind: str, path_of: Callable[[str], Path]):
        self.kind = kind
        self.path_of = path_of

    def key(self, name: str) -> str:
        self.path_of(name)  # the layout's own check of the name (a hash), whatever the mode
        return f"{self.kind}/{name}"

    # --- writing ---------------------------------------------------------------------------------------------------

    def put(self, name: str, data: bytes) -> None:
        """Store `data` under `name` (once: a name already stored is left as it is)."""
        if not database_mode():
            write_durably(self.path_of(name), data)
            return
        view = memoryview(data)
        self.put_pieces(name, (view[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)))

    def put_pieces(self, name: str, pieces: Iterable[bytes], check: Callable[[], None] | None = None) -> int:
        """Store the concatenation of `pieces` under `name`, without holding it all in memory; `check()`, called
        once every piece is consumed, may raise to store nothing (it sees the content's hash computed on the way,
        say). Returns the size. The pieces are consumed and checked even when the name is stored already."""
        if not database_mode():
            return self._put_file_pieces(name, pieces, check)
        key = self.key(name)
        if Blob.objects.filter(key=key).exists():
            return self._consume(pieces, check)
        try:
            with transaction.atomic():
                blob = Blob.objects.create(key=key, chunk_size=CHUNK_SIZE)
                size = 0
                for index, chunk in enumerate(rechunk(pieces, CHUNK_SIZE)):
                    BlobChunk.objects.create(blob=blob, index=index, data=chunk)
                    size += len(chunk)
                if check is not None:
                    check()
                Blob.objects.filter(pk=blob.pk).update(size=size)
                return size
        except IntegrityError:
            # another process stored the same content meanwhile (the unique key): it is there, and the same
            if not Blob.objects.filter(key=key).exists():
                raise
            return self._consume(pieces, check)

    @staticmethod
    def _consume(pieces: Iterable[bytes], check: Callable[[], None] | None) -> int:
        size = sum(len(piece) for piece in pieces)
        if check is not None:
            check()
        return size

    def _put_file_pieces(self, name: str, pieces: Iterable[bytes], check: Callable[[], None] | None) -> int:
        target = self.path_of(name)
        ensure_private_dir(target.parent.parent)
        ensure_private_dir(target.parent)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in pieces:
                    out.write(piece)
                    size += len(piece)
                out.flush()
                os.fsync(out.fileno())
            if check is not None:
                check()
            if not (target.exists() and target.stat().st_size == size):
                os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        return size

    # --- reading ---------------------------------------------------------------------------------------------------

    def _row(self, name: str) -> Blob:
        blob = Blob.objects.filter(key=self.key(name)).first()
        if blob is None:
            raise FileNotFoundError(f"no stored {self.kind} {name}")
        return blob

    def open(self, name: str):
        """A seekable binary file of the content; FileNotFoundError when it is not stored."""
        if not database_mode():
            return self.path_of(name).open("rb")
        return DatabaseBlobFile(self._row(name))

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def size(self, name: str) -> int:
        if not database_mode():
            return self.path_of(name).stat().st_size
        return self._row(name).size

    def exists(self, name: str) -> bool:
        if not database_mode():
            return self.path_of(name).is_file()
        return Blob.objects.filter(key=self.key(name)).exists()

    # --- deleting --------------------------------------------------------------------------------------------------

    def delete(self, names: Iterable[str]) -> None:
        """Remove these contents (those not stored are ignored)."""
        names = list(names)
        if not database_mode():
            for name in names:
                self.path_of(name).unlink(missing_ok=True)
            return
        keys = [self.key(name) for name in names]
        for start in range(0, len(keys), 500):
            with transaction.atomic():
                ids = list(Blob.objects.filter(key__in=keys[start : start + 500]).values_list("pk", flat=True))
                if ids:
                    # the chunks in one statement first (the ORM's cascade would be the same, collected row by row)
                    BlobChunk.objects.filter(blob_id__in=ids).delete()
                    Blob.objects.filter(pk__in=ids).delete()
