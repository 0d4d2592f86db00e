"""The web server of `make run` and `make serve`: waitress in front of bugsink.wsgi, with limits from the settings.

Why waitress: its event loop reads each whole request (head and body, de-chunked, spooled to a temporary file past
512 KiB) before a worker thread sees it, so a client trickling bytes holds a socket, not one of the few threads.
Under gunicorn's threaded worker 20 connections sending a byte a second starved /health/live and ingest; granian's
WSGI interface hands the body to the thread as a stream and starves the same way. Waitress ingests about as fast
as gunicorn on 2 cores (figures and commands in bench/RESULTS.md), sets `wsgi.input_terminated` for chunked bodies
(@sentry/node), and is pure Python.

    python -m bugsink.webserver [--port 8000] [--threads 8] [--workers 1] [--access-log]

PORT, THREADS, WEB_WORKERS and ACCESS_LOG=true are read from the environment too. With more than one worker the
listening socket is bound once and shared by that many forked processes.
"""

import argparse
import ctypes
import ctypes.util
import json
import logging
import os
import signal
import socket
import sys
import threading
import time

from bugsink import jobs

logger = logging.getLogger("bugsink.webserver")

# waitress's own defaults are 100 connections (then it stops accepting) and select(), which fails past 1024 fds
CONNECTION_LIMIT = 1000
# a connection that sends nothing at all for this long is closed
CHANNEL_TIMEOUT_SECONDS = 60
# on top of the largest body ingest accepts: room for the request head and chunk framing; bigger bodies get
# waitress's own 413 (plain text) before a thread sees them, so nobody can spool gigabytes to the temp dir
BODY_MARGIN = 1024 * 1024


M_ARENA_MAX = -8  # glibc's mallopt() parameter number
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """glibc gives every new thread a malloc arena of its own (up to 8 per core) and keeps what is freed in it: the
    request threads each held a few MB after a burst. Two arenas cost nothing we could measure (the GIL serialises
    most allocation anyway) and cut the idle RSS of `make run` after 1,000 events by ~4 MB. Must run before the
    threads start; MALLOC_ARENA_MAX in the environment wins (glibc reads it itself); not glibc: nothing happens."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        pass


HEAP_TRIM_SECONDS = 10


def heap_trimmer():
    """glibc's malloc_trim, or None when the C library has none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def trim_heap_periodically(interval: float = HEAP_TRIM_SECONDS) -> threading.Thread | None:
    """glibc keeps freed memory in its heap for reuse, so after a burst of events (request bodies, digest batches)
    a process stays at its peak: `make run` sat at ~100 MB after 1,000 events though it needs ~92. malloc_trim(0)
    every `interval` seconds gives back what is free (a few milliseconds, outside the GIL). Not glibc: nothing."""
    trim = heap_trimmer()
    if trim is None:
        return None

    def loop():
        while True:
            time.sleep(interval)
            trim(0)

    thread = threading.Thread(target=loop, name="heap-trim", daemon=True)
    thread.start()
    return thread


def _json_error_response(error, ident=None):
    """Waitress answers requests it cannot parse (broken chunk framing, a body over max_request_body_size, headers
    too large) itself, before the application runs; like every other refusal of ours those carry a JSON detail and
    the CORS header a browser SDK needs to read them."""
    body = json.dumps({"detail": f"{error.reason}: {error.body}"}).encode()
    headers = [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*")]
    return f"{error.code} {error.reason}", headers, body


def use_json_errors() -> None:
    from waitress.utilities import Error

    Error.to_response = _json_error_response


# of a request's target (path and query), what an access-log line quotes: a 100 KB query string is a refusal's
# worth of log, not a megabyte of it per request
MAX_LOGGED_TARGET = 1024


def logged_target(path: str, query: str) -> str:
    """The request target for the access log: at most MAX_LOGGED_TARGET characters, a longer one cut with a marker
    saying how much was left out; control characters (a decoded %0A in the path) escaped, so a line stays a line."""
    target = path + (f"?{query}" if query else "")
    if len(target) > MAX_LOGGED_TARGET:
        target = f"{target[:MAX_LOGGED_TARGET]}…[+{len(target) - MAX_LOGGED_TARGET} chars]"
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in target)


def access_logged(application):
    """Common-log-format lines ("METHOD path protocol" status bytes) on the `bugsink.access` logger, each line of
    bounded length (logged_target)."""
    access = logging.getLogger("bugsink.access")

    def logged(environ, start_response):
        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        result = application(environ, recording_start_response)
        target = logged_target(environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        access.info(
            '%s - - [%s] "%s %s %s" %s -',
            environ.get("REMOTE_ADDR", "-"),
            time.strftime("%d/%b/%Y:%H:%M:%S %z"),
            (environ.get("REQUEST_METHOD") or "-")[:32],
            target,
            environ.get("SERVER_PROTOCOL"),
            seen.get("status", "-"),
        )
        return result

    return logged


def options(threads: int) -> dict:
    from django.conf import settings

    largest_body = max(settings.MAX_ENVELOPE_COMPRESSED_SIZE, settings.MAX_STORE_COMPRESSED_SIZE)
    return {
        "threads": threads,
        "connection_limit": CONNECTION_LIMIT,
        "asyncore_use_poll": True,
        "channel_timeout": CHANNEL_TIMEOUT_SECONDS,
        "max_request_body_size": largest_body + BODY_MARGIN,
        "ident": "bugsink",
    }


def _serve(application, sock: socket.socket, threads: int) -> None:
    from waitress import serve

    use_json_errors()
    jobs.start_periodic()  # without a broker, this process runs the periodic jobs (sweep, retention) itself
    trim_heap_periodically()
    # SIGTERM as Ctrl-C: waitress then stops accepting and gives running requests a few seconds to finish
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(application, sockets=[sock], **options(threads))


def _prefork(application, sock: socket.socket, threads: int, workers: int) -> None:
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            try:
                _serve(application, sock, threads)
            finally:
                os._exit(0)
        children.append(pid)

    def stop(signum, frame):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("THREADS") or 8))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS") or 1))
    parser.add_argument(
        "--access-log", action="store_true", default=os.environ.get("ACCESS_LOG", "").lower() in ("1", "true", "yes")
    )
    args = parser.parse_args(argv)

    limit_malloc_arenas()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink.settings")
    from bugsink.wsgi import application  # sets Django up, and with it the logging configuration

    if args.access_log:
        application = access_logged(application)
        logging.getLogger("bugsink.access").setLevel(logging.INFO)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    logger.warning("serving on %s:%s, %s threads, %s worker(s)", args.host, args.port, args.threads, args.workers)
    if args.workers <= 1:
        _serve(application, sock, args.threads)
    else:
        _prefork(application, sock, args.threads, args.workers)


if __name__ == "__main__":
    main()
