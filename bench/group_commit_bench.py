"""The file store's group commit, measured on its own: T threads each store N raw events of ~10 KB through
ingest.store (real fsyncs, in a temporary folder), once with the shared directory fsyncs (DirectorySync) and once
with a directory fsync per event (as before group commit), in alternation, R rounds.

    python bench/group_commit_bench.py [--threads 16] [--events 200] [--rounds 3]

Prints, per mode and round: events/s, directory fsyncs, and events per directory fsync.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
real_fsync_directory = None


def run(mode: str, threads: int, events: int, folder: Path) -> dict:
    from django.conf import settings

    from ingest import file_store, store
    from ingest.raw import RawEvent

    global real_fsync_directory
    real_fsync_directory = real_fsync_directory or file_store._fsync_directory

    settings.INGEST_STORE_DIR = folder
    settings.INGEST_FSYNC = True
    settings.INGEST_GROUP_COMMIT = mode == "grouped"
    syncs = {"count": 0}
    lock = threading.Lock()

    def counted_fsync(directory):
        real_fsync_directory(directory)
        with lock:
            syncs["count"] += 1

    file_store._fsync_directory = counted_fsync
    file_store.directory_sync = file_store.DirectorySync(fsync=counted_fsync)
    payload = json.dumps({"message": "x" * 10_000}).encode()

    def writer():
        for _ in range(events):
            store.store_raw_event(RawEvent(1, uuid.uuid4().hex, time.time(), "127.0.0.1", payload))

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - start
    total = threads * events
    assert len(store.pending_keys(1)) == total
    return {
        "mode": mode,
        "events": total,
        "seconds": round(seconds, 2),
        "events_per_second": round(total / seconds, 1),
        "directory_fsyncs": syncs["count"],
        "events_per_directory_fsync": round(total / syncs["count"], 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--events", type=int, default=200, help="per thread")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="group-commit-bench-"))
    os.environ["BUGSINK_DATA_DIR"] = str(scratch / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    try:
        for round_number in range(args.rounds):
            for mode in ("per-event", "grouped"):
                folder = scratch / f"{mode}-{round_number}"
                print(json.dumps({"round": round_number + 1, **run(mode, args.threads, args.events, folder)}))
                shutil.rmtree(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
