"""Files that only this server's own user may read: the data directory, the secret key, the SQLite database.

The data directory holds everything an attacker on the same machine would want: the secret key (forge sessions,
password-reset links), the database (every event, password hashes) and the raw events. So:

- the process umask is 077 (settings, `BUGSINK_UMASK` overrides it), so whatever it creates is private: the
  database and its -wal/-shm files, ingest store directories, the beat schedule;
- the data directory is created 0700, and an existing one that we own is tightened to 0700;
- a SQLite database (and -wal/-shm) that already exists with a looser mode is tightened to 0600 at start;
- the secret key and the initial admin password are created 0600 from their first byte (no window in which they
  exist with the default mode), and atomically: a second process starting at the same moment never reads a half
  written key, it reads the first one's.

Nothing here changes files that another user owns: an operator who set modes on purpose keeps them.
"""

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _owned_by_us(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid()


def tighten(path: Path, mode: int) -> None:
    """Remove group and other permissions from path if we own it and it has any; a missing path is left alone."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if _owned_by_us(st) and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & mode)


def ensure_private_dir(path: Path) -> None:
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    tighten(path, PRIVATE_DIR)


def tighten_sqlite(database: Path) -> None:
    """The database file and the -wal/-shm files SQLite keeps beside it (which it creates with the database's
    mode, so a private database keeps them private from then on)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        tighten(Path(f"{database}{suffix}"), PRIVATE_FILE)


def create_private_file(path: Path, content: str) -> bool:
    """Create path with content, mode 0600; False (and nothing written) when it exists already.

    The content goes to a temporary file first, which is then hard-linked to its name: the name appears with all
    of its content or not at all, and when two processes race, exactly one link succeeds."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:  # a filesystem without hard links: exclusive create of the name itself
            return _create_exclusive(path, content)
        return True
    finally:
        temporary.unlink(missing_ok=True)


def _create_exclusive(path: Path, content: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    return True


def read_or_create(path: Path, generate: Callable[[], str]) -> str:
    """The content of a private file, created with generate() if there is none yet (see create_private_file)."""
    if not path.exists():
        create_private_file(path, generate())
    return path.read_text().strip()


def write_durably(path: Path, data: bytes) -> None:
    """`data` at `path`, whole or not at all: written to a temporary file beside it, fsynced, renamed over it; the
    folders up to the parent are made private. A file of the same size there already is taken as this content
    (callers name files by their content's hash)."""
    if path.exists() and path.stat().st_size == len(data):
        return
    ensure_private_dir(path.parent.parent)
    ensure_private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
