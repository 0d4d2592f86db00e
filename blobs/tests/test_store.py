"""The content store in both modes (FILE_STORE=file and database): storing once, reading whole and by seeks across
chunk boundaries, sizes, deleting, a failed check storing nothing, two processes storing the same content at once,
and (database mode) no file written anywhere. Runs on whatever database the suite runs on (SQLite by default,
PostgreSQL and MariaDB in the CI matrix)."""

import hashlib
import os
import subprocess
import sys
import threading
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from django.db import connection

from blobs.models import Blob, BlobChunk
from blobs.store import CHUNK_SIZE, BlobStore, rechunk

MODES = ["file", "database"]


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def name_path(folder: Path):
    def path_of(name: str) -> Path:
        if len(name) != 40 or any(c not in "0123456789abcdef" for c in name):
            raise ValueError("not a SHA-1")
        return folder / name[:2] / name[2:]

    return path_of


@pytest.fixture(params=MODES)
def mode(request, settings):
    settings.FILE_STORE = request.param
    return request.param


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "contents"


@pytest.fixture
def store(folder):
    return BlobStore("test", name_path(folder))


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def big_content(size: int) -> bytes:
    """Not compressible and not periodic at the chunk size: a misplaced chunk would show."""
    out, counter = bytearray(), 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def test_rechunk_gives_blocks_of_the_size():
    assert list(rechunk([b"ab", b"cde", b"", b"f"], 2)) == [b"ab", b"cd", b"ef"]
    assert list(rechunk([b"abcde"], 2)) == [b"ab", b"cd", b"e"]
    assert list(rechunk([], 2)) == []


@pytest.mark.django_db
def test_put_read_size_exists_delete(mode, store, folder):
    data = b"hello, content"
    name = sha1(data)
    assert not store.exists(name)
    with pytest.raises(FileNotFoundError):
        store.open(name)
    with pytest.raises(FileNotFoundError):
        store.size(name)
    store.put(name, data)
    store.put(name, data)  # again: stored once
    assert store.exists(name) and store.read(name) == data and store.size(name) == len(data)
    if mode == "database":
        assert Blob.objects.filter(key=f"test/{name}").count() == 1 and not files_in(folder)
    else:
        assert files_in(folder) == [folder / name[:2] / name[2:]] and not Blob.objects.exists()
    store.delete([name, sha1(b"never stored")])
    assert not store.exists(name) and not Blob.objects.exists() and not BlobChunk.objects.exists()
    assert not files_in(folder)


@pytest.mark.django_db
def test_an_empty_content(mode, store):
    name = sha1(b"")
    store.put(name, b"")
    assert store.exists(name) and store.read(name) == b"" and store.size(name) == 0


@pytest.mark.django_db
def test_names_are_checked_by_the_layout(mode, store):
    for bad in ("../../etc/passwd", "A" * 40, ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")
        with pytest.raises(ValueError):
            store.exists(bad)


@pytest.mark.django_db(transaction=True)
def test_a_content_over_the_chunk_size_reads_back_whole_and_by_seeks(mode, store, folder):
    data = big_content(3 * CHUNK_SIZE + 12345)
    name = sha1(data)
    store.put(name, data)
    assert store.size(name) == len(data)
    assert hashlib.sha1(store.read(name)).hexdigest() == name
    if mode == "database":
        chunks = list(
            BlobChunk.objects.filter(blob__key=f"test/{name}").order_by("index").values_list("data", flat=True)
        )
        assert [len(bytes(c)) for c in chunks] == [CHUNK_SIZE] * 3 + [12345]
        assert not files_in(folder)
    with store.open(name) as f:
        assert f.seekable()
        for position, count in [(CHUNK_SIZE - 10, 20), (0, 5), (2 * CHUNK_SIZE + 7, CHUNK_SIZE), (len(data) - 3, 10)]:
            f.seek(position)
            assert f.read(count) == data[position : position + count]
            assert f.tell() == min(position + count, len(data))
        f.seek(-4, os.SEEK_END)
        assert f.read() == data[-4:]
        f.seek(len(data) + 10)
        assert f.read(10) == b""


@pytest.mark.django_db
def test_a_zip_reads_from_the_store(mode, store):
    """What artifact bundles need: zipfile seeks to the central directory at the end, then to each member."""
    buffer = BytesIO()
    members = {f"files/{i}.js": big_content(300_000 + i) for i in range(8)}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for member, content in members.items():
            zf.writestr(member, content)
    data = buffer.getvalue()
    assert len(data) > 2 * CHUNK_SIZE
    store.put(sha1(data), data)
    with store.open(sha1(data)) as f, zipfile.ZipFile(f) as zf:
        assert zf.testzip() is None
        assert {member: zf.read(member) for member in zf.namelist()} == members


@pytest.mark.django_db
def test_put_pieces_checks_before_storing(mode, store, folder):
    data = big_content(CHUNK_SIZE + 100)
    name = sha1(data)
    digest = hashlib.sha1()

    def pieces(content: bytes):
        for i in range(0, len(content), 4096):
            digest.update(content[i : i + 4096])
            yield content[i : i + 4096]

    def check():
        if digest.hexdigest() != name:
            raise RuntimeError("not that content")

    with pytest.raises(RuntimeError):
        store.put_pieces(name, pieces(data[:-1] + b"?"), check)
    assert not store.exists(name) and not Blob.objects.exists() and not BlobChunk.objects.exists()
    assert not files_in(folder)

    digest = hashlib.sha1()
    assert store.put_pieces(name, pieces(data), check) == len(data)
    assert store.read(name) == data
    digest = hashlib.sha1()
    assert store.put_pieces(name, pieces(data), check) == len(data)  # stored already: read and checked again
    assert store.read(name) == data


@pytest.mark.django_db
def test_a_put_that_loses_the_race_for_the_key_succeeds(settings, store, monkeypatch):
    """Another process stored the same content between our look and our insert: the unique key refuses ours, and
    the content is there."""
    settings.FILE_STORE = "database"
    data = b"the same content"
    store.put(sha1(data), data)
    real_filter = Blob.objects.filter
    looks = []

    def blind_filter(*args, **kwargs):
        query = real_filter(*args, **kwargs)
        if not looks:  # the first look (before the insert) does not see the other's row
            looks.append(1)
            return query.none()
        return query

    monkeypatch.setattr(Blob.objects, "filter", blind_filter)
    store.put(sha1(data), data)
    assert looks and Blob.objects.count() == 1 and store.read(sha1(data)) == data


@pytest.mark.django_db(transaction=True)
def test_concurrent_puts_of_the_same_content(settings, store):
    """Two threads (each its own database connection) store the same 2.5 MiB at once: both return, one copy."""
    settings.FILE_STORE = "database"
    data = big_content(2 * CHUNK_SIZE + CHUNK_SIZE // 2)
    barrier = threading.Barrier(2, timeout=30)
    errors = []

    def put():
        try:
            barrier.wait()
            store.put(sha1(data), data)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=put) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert Blob.objects.count() == 1 and BlobChunk.objects.count() == 3
    assert store.read(sha1(data)) == data


@pytest.mark.parametrize(
    "ingest_store,file_store,expected",
    [
        ("file", "", "file"),
        ("database", "", "database"),
        ("database", "file", "file"),
        ("file", "database", "database"),
    ],
)
def test_the_file_store_follows_the_ingest_store_by_default(ingest_store, file_store, expected):
    """Read by a fresh process, as a deployment would."""
    env = {**os.environ, "INGEST_STORE": ingest_store, "FILE_STORE": file_store}
    env["DJANGO_SETTINGS_MODULE"] = "testing.settings"
    code = "from django.conf import settings; print(settings.FILE_STORE)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_unknown_file_store_is_refused():
    env = {**os.environ, "FILE_STORE": "s3", "DJANGO_SETTINGS_MODULE": "testing.settings"}
    code = "from django.conf import settings; print(settings.FILE_STORE)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "FILE_STORE must be 'file' or 'database'" in result.stderr
