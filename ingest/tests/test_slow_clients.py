"""Slow clients hold no worker thread: with 20 connections trickling an envelope a byte at a time (more than the
live server's threads), /health/live and a real event POST still get their answers.

The bound is a generous socket timeout (10 s), a failure bound, not a speed assertion: under a server whose threads
read request bodies themselves the probe never answers while the trickling lasts. Loopback only; the trickling is
bounded (the connections are closed at the end of the test, and each sends at most a few dozen bytes).
"""

import http.client
import json
import socket
import threading
from urllib.parse import urlsplit

import pytest

from events.models import Event
from projects.models import Project
from testing.utils import exception_event, make_envelope

SLOW_CONNECTIONS = 20  # the live server has 4 threads
TIMEOUT = 10


@pytest.mark.live
@pytest.mark.parametrize("trickle", ["body", "head"])
def test_trickling_connections_starve_nobody(live_server_url, transactional_db, trickle):
    project = Project.objects.create(name="Slow clients")
    parts = urlsplit(live_server_url)
    address = (parts.hostname, parts.port)
    path = f"/api/{project.pk}/envelope/?sentry_key={project.sentry_key}"
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n".encode()
    stop = threading.Event()
    opened = threading.Semaphore(0)  # released by each connection once it is open (or failed to open)
    trickling = threading.Semaphore(0)  # released by each connection once it has trickled its first byte

    def trickler():
        try:
            with socket.create_connection(address, timeout=TIMEOUT) as sock:
                if trickle == "body":
                    sock.sendall(head + b"{")
                    data = b"x" * 100
                else:
                    data = head
                opened.release()
                for n, byte in enumerate(data):  # at most ~100 bytes, one per 0.2 s, until the test is done
                    if stop.wait(0.2):
                        return
                    sock.sendall(bytes([byte]))
                    if n == 0:
                        trickling.release()
        except OSError:
            opened.release()
            trickling.release()

    threads = [threading.Thread(target=trickler, daemon=True) for _ in range(SLOW_CONNECTIONS)]
    for thread in threads:
        thread.start()
    try:
        for _ in threads:
            assert opened.acquire(timeout=TIMEOUT)
        for _ in threads:  # every slow connection has sent a byte after its start and is waiting to send more
            assert trickling.acquire(timeout=TIMEOUT)
        assert all(thread.is_alive() for thread in threads), "every slow connection opened and is trickling"

        connection = http.client.HTTPConnection(*address, timeout=TIMEOUT)
        connection.request("GET", "/health/live")
        response = connection.getresponse()
        assert response.status == 200, response.read()
        response.read()

        event = exception_event("SlowClientsError", "answered despite the trickling")
        connection.request("POST", path, body=make_envelope(event))
        response = connection.getresponse()
        assert response.status == 200, response.read()
        event_id = json.loads(response.read())["id"]
        connection.close()
        assert Event.objects.filter(project=project, event_id=event_id).exists()
        assert all(thread.is_alive() for thread in threads), "the slow connections were still open throughout"
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT)
