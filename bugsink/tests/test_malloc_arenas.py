"""The web server limits glibc's malloc arenas before its threads start (bugsink.webserver.limit_malloc_arenas):
16 request threads then share 2 arenas instead of holding one each."""

import ctypes
import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter (arenas are per process): optionally limit, then 16 threads each allocate blocks too big for
# Python's own allocator, and glibc's malloc_stats() lists one "Arena N:" per arena on stderr.
PROBE = """
import ctypes, sys, threading
from bugsink import webserver
if sys.argv[1] == "limit":
    webserver.limit_malloc_arenas()
blocks = []
start = threading.Barrier(16)
def allocate():
    start.wait()
    blocks.append([bytearray(100_000) for _ in range(5)])
threads = [threading.Thread(target=allocate) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()
"""


def glibc() -> bool:
    try:
        return hasattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "gnu_get_libc_version")
    except OSError:
        return False


def arenas(mode: str) -> int:
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return sum(1 for line in result.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(not glibc(), reason="malloc arenas are glibc's")
def test_sixteen_threads_share_two_arenas():
    assert arenas("limit") <= 2
    assert arenas("default") > 2  # what the limit prevents (one arena per new thread, up to 8 per core)


# A fresh interpreter: 100,000 blocks of 1 KiB (past Python's own allocator: glibc's), the first 80,000 freed and the
# last ones kept, so the heap cannot shrink from its top; the trimmer (bugsink.webserver.heap_trimmer, what the
# server runs every few seconds) must hand the freed pages back. Prints the RSS in KiB before and after.
TRIM_PROBE = """
import sys
from bugsink import webserver
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
blocks = [bytes(1024) + bytes([n % 256]) for n in range(100_000)]
del blocks[:80_000]
before = rss()
if sys.argv[1] == "trim":
    webserver.heap_trimmer()(0)
print(before, rss())
"""


def rss_around(mode: str) -> tuple[int, int]:
    result = subprocess.run(
        [sys.executable, "-c", TRIM_PROBE, mode], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    before, after = result.stdout.split()
    return int(before), int(after)


@pytest.mark.skipif(not glibc(), reason="malloc_trim is glibc's")
def test_the_heap_trimmer_gives_freed_memory_back():
    before, after = rss_around("trim")
    assert before - after > 40_000  # ~80 MB free below live blocks: most of it goes back
    before, after = rss_around("none")
    assert before - after < 5_000  # without it, glibc keeps it
