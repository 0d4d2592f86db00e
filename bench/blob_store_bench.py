"""The content store (blobs.store) measured in both modes on the database DATABASE_URL names (migrated first; use a
database of its own): store, read whole, open a zip and read one small member of it, delete, for contents of the
given sizes (incompressible bytes), R rounds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/blob_bench python bench/blob_store_bench.py [--sizes 10,64]

Prints one JSON line per mode, size and round: seconds per operation, and MiB/s for the store and the read.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def content(size: int) -> bytes:
    """A zip (stored, not deflated) of incompressible members and one small member at its start."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("small.js", b"console.log('small');\n")
        zf.writestr("big.bin", os.urandom(size))
    return buffer.getvalue()


def run(mode: str, data: bytes, folder: Path) -> dict:
    from django.conf import settings

    from blobs.store import BlobStore

    settings.FILE_STORE = mode
    store = BlobStore("bench", lambda name: folder / name[:2] / name[2:])
    name = hashlib.sha1(data).hexdigest()
    timings = {}
    start = time.perf_counter()
    store.put(name, data)
    timings["store"] = time.perf_counter() - start
    start = time.perf_counter()
    assert store.read(name) == data
    timings["read"] = time.perf_counter() - start
    start = time.perf_counter()
    with store.open(name) as f, zipfile.ZipFile(f) as zf:
        assert zf.read("small.js").startswith(b"console")
    timings["zip_member"] = time.perf_counter() - start
    start = time.perf_counter()
    store.delete([name])
    timings["delete"] = time.perf_counter() - start
    mib = len(data) / MIB
    return {
        "mode": mode,
        "mib": round(mib, 1),
        **{k: round(v, 3) for k, v in timings.items()},
        "store_mib_s": round(mib / timings["store"], 1),
        "read_mib_s": round(mib / timings["read"], 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,64", help="MiB, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="blob-store-bench-"))
    os.environ["BUGSINK_DATA_DIR"] = str(scratch / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    call_command("migrate", verbosity=0)
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            data = content(size * MIB)
            for round_number in range(args.rounds):
                for mode in ("file", "database"):
                    result = run(mode, data, scratch / f"files-{round_number}")
                    print(json.dumps({"database": connection.vendor, "round": round_number + 1, **result}))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
