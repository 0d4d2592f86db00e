"""The ingest store on local disk (the default, INGEST_STORE=file): one file per raw record (ingest.raw).

A file is written to a temporary name, fsynced and renamed, and its directory fsynced, so a 200 is only sent for
an event that survives a crash. Digest deletes the file after its transaction commits; a file that is still here
was never digested (the sweep, ingest.sweep, re-enqueues those).

Group commit: the directory fsync that makes a rename durable covers every rename done in that directory before it
started. Requests that rename at the same time therefore share one: the first to need it syncs, the others wait for
a sync that started after their own rename (DirectorySync). Each request still returns only once its own file and
its directory entry are on disk; under concurrent load there are fewer fsyncs than events.

Layout: `<INGEST_STORE_DIR>/<project_id>/<received_ns>-<event_id>.event`, and quarantined records (with a
`.reason` file beside them) under `<INGEST_STORE_DIR>/quarantine/<project_id>/`.
"""

import os
import threading
import time
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from ingest.raw import QuarantinedEvent, RawEvent, decode, encode, make_key, received_ns, split_key

SUFFIX = ".event"
REASON_SUFFIX = ".reason"
QUARANTINE = "quarantine"


def _root() -> Path:
    return Path(settings.INGEST_STORE_DIR)


def _path_text(key: str) -> str:
    """Where the pending record `key` is, as a string: what ingest and digest use per event (no pathlib objects)."""
    project_id, name = split_key(key)
    return f"{settings.INGEST_STORE_DIR}/{project_id}/{name}{SUFFIX}"


def _path(key: str) -> Path:
    return Path(_path_text(key))


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectorySync:
    """Shared directory fsyncs: `after_rename(directory)` returns once a fsync of `directory` that started after
    the call has completed (the caller's rename, done before the call, is then durable). Of the threads that call
    at the same time, one syncs and the others wait for it; those that arrive during a sync share the next one.
    `syncs` counts the fsyncs done and `renames` the renames they covered (the benchmark reports both)."""

    def __init__(self, fsync=_fsync_directory):
        self._fsync = fsync
        self._changed = threading.Condition()
        self._renamed: dict[Path, int] = {}  # renames announced per directory
        self._synced: dict[Path, int] = {}  # of which this many are known durable
        self._syncing: set[Path] = set()
        self.syncs = 0
        self.renames = 0

    def after_rename(self, directory: Path) -> None:
        with self._changed:
            self.renames += 1
            ticket = self._renamed[directory] = self._renamed.get(directory, 0) + 1
            while self._synced.get(directory, 0) < ticket:
                if directory in self._syncing:
                    # the running sync may have started before our rename: wait for it, then look again
                    self._changed.wait(timeout=1.0)
                    continue
                self._syncing.add(directory)
                covered = self._renamed[directory]
                self._changed.release()
                try:
                    self._fsync(directory)
                finally:  # a failed fsync raises to its caller (a 500); the waiters then sync for themselves
                    self._changed.acquire()
                    self._syncing.discard(directory)
                    self._changed.notify_all()
                self.syncs += 1
                self._synced[directory] = max(self._synced.get(directory, 0), covered)


directory_sync = DirectorySync()


# (store folder, project id) -> that project's folder, known to exist: every accepted event needs it, and pathlib
# plus a stat per event were a tenth of the web process's CPU (nothing removes a project's folder while it runs)
_project_dirs: dict[tuple[str, int], str] = {}


def _project_dir(project_id: int, fresh: bool = False) -> str:
    root = str(settings.INGEST_STORE_DIR)
    directory = None if fresh else _project_dirs.get((root, project_id))
    if directory is None:
        directory = os.path.join(root, str(project_id))
        if not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
            if settings.INGEST_FSYNC:
                _fsync_directory(root)
        _project_dirs[(root, project_id)] = directory
    return directory


def store_raw_event(raw: RawEvent) -> str:
    key = make_key(raw)
    name = split_key(key)[1] + SUFFIX
    unique = f"{os.getpid()}.{threading.get_ident()}.{time.monotonic_ns()}"
    directory = _project_dir(raw.project_id)
    temporary = f"{directory}/.{name}.{unique}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileNotFoundError:  # the folder went away under us (removed by hand): made again
        directory = _project_dir(raw.project_id, fresh=True)
        temporary = f"{directory}/.{name}.{unique}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    final = f"{directory}/{name}"
    try:
        for part in encode(raw):
            view = memoryview(part)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        if settings.INGEST_FSYNC:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, final)
    if settings.INGEST_FSYNC and settings.INGEST_GROUP_COMMIT:
        directory_sync.after_rename(directory)
    elif settings.INGEST_FSYNC:
        _fsync_directory(directory)
    raw.key = key
    return key


def replace_raw_event(raw: RawEvent) -> None:
    """Overwrite the pending record `raw.key` with `raw` (written and renamed over it as a new one is)."""
    if make_key(raw) != raw.key:
        raise ValueError(f"{raw.key!r} is not the key of this record")
    if exists(raw.key):
        store_raw_event(raw)


def load_raw_event(key: str) -> RawEvent | None:
    try:
        with open(_path_text(key), "rb") as file:
            content = file.read()
    except FileNotFoundError:
        return None
    return decode(key, content)


def exists(key: str) -> bool:
    return os.path.exists(_path_text(key))


def delete_raw_events(keys: list[str]) -> None:
    for key in keys:
        try:
            os.unlink(_path_text(key))
        except FileNotFoundError:
            pass


def quarantine_raw_event(key: str, reason: str = "") -> None:
    source, target = _path(key), _quarantine_path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return
    if reason:
        reason_path = target.with_suffix(REASON_SUFFIX)
        fd = os.open(reason_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, reason.encode("utf-8", "replace"))
        finally:
            os.close(fd)


def _quarantine_path(key: str) -> Path:
    source = _path(key)
    return _root() / QUARANTINE / source.parent.name / source.name


def in_quarantine(key: str) -> bool:
    return _quarantine_path(key).is_file()


def open_quarantined(key: str) -> BinaryIO:
    return _quarantine_path(key).open("rb")


def release_from_quarantine(key: str) -> None:
    target = _quarantine_path(key)
    target.with_suffix(REASON_SUFFIX).unlink(missing_ok=True)
    _path(key).parent.mkdir(parents=True, exist_ok=True)
    os.replace(target, _path(key))


def quarantined_events(limit: int) -> tuple[int, list[QuarantinedEvent]]:
    found = []
    try:
        directories = [e for e in os.scandir(_root() / QUARANTINE) if e.is_dir() and e.name.isdigit()]
    except FileNotFoundError:
        return 0, []
    for directory in directories:
        for entry in os.scandir(directory.path):
            if entry.name.endswith(SUFFIX):
                found.append((directory.name, entry))
    found.sort(key=lambda item: item[1].name, reverse=True)
    events = []
    for project_id, entry in found[:limit]:
        key = f"{project_id}/{entry.name[: -len(SUFFIX)]}"
        try:
            reason = Path(entry.path).with_suffix(REASON_SUFFIX).read_text("utf-8", "replace")
        except FileNotFoundError:
            reason = ""
        try:
            size = entry.stat().st_size
        except FileNotFoundError:
            continue
        arrived = received_ns(key)
        events.append(
            QuarantinedEvent(
                key=key,
                project_id=int(project_id),
                event_id=key.rpartition("-")[2],
                received_at=arrived / 1e9 if arrived is not None else 0.0,
                size=size,
                reason=reason,
            )
        )
    return len(found), events


def pending_keys(project_id: int, limit: int | None = None) -> list[str]:
    try:
        names = sorted(
            entry.name[: -len(SUFFIX)]
            for entry in os.scandir(_root() / str(project_id))
            if entry.name.endswith(SUFFIX) and not entry.name.startswith(".")
        )
    except FileNotFoundError:
        return []
    return [f"{project_id}/{name}" for name in (names[:limit] if limit else names)]


def pending_raw_events(older_than_seconds: float) -> list[str]:
    cutoff_ns = int((time.time() - older_than_seconds) * 1e9)
    keys = []
    try:
        projects = [e.name for e in os.scandir(_root()) if e.is_dir() and e.name.isdigit()]
    except FileNotFoundError:
        return []
    for project_id in projects:
        for key in pending_keys(int(project_id)):
            arrived = received_ns(key)
            # a file that is not one of ours (no arrival time in its name) is left alone
            if arrived is not None and arrived <= cutoff_ns:
                keys.append(key)
    return keys


def remove_orphan_temporaries(older_than_seconds: float) -> int:
    cutoff = time.time() - older_than_seconds
    removed = 0
    try:
        directories = [e.path for e in os.scandir(_root()) if e.is_dir() and e.name.isdigit()]
    except FileNotFoundError:
        return 0
    for directory in directories:
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                try:
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:
                    pass
    return removed


def load_raw_events(keys: list[str]) -> dict[str, RawEvent]:
    found = {}
    for key in keys:
        raw = load_raw_event(key)
        if raw is not None:
            found[key] = raw
    return found


def forget_digested(keys: list[str]) -> None:
    """Files are no part of the caller's transaction: they go once it has committed (a crash in between leaves a
    file whose events are stored; digest finds them stored by key and adds nothing)."""
    transaction.on_commit(lambda: delete_raw_events(keys))
