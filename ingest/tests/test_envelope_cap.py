"""The cap on items per envelope (MAX_ENVELOPE_ITEMS) and the other bounds on per-envelope work.

A small gzip body of millions of tiny items used to cost tens of seconds of CPU before its 413. Now it is refused
once the cap is passed; the tests count the work (item headers parsed, decompressed bytes read), never time it.
"""

import gzip
import json
import zlib

import pytest

from ingest import envelope as envelope_module
from ingest.envelope import read_envelope_headers, read_envelope_items
from ingest.errors import BadRequest, PayloadTooLarge
from ingest.streams import FramedReader, decompressing_reader
from ingest.tests.test_hostile_http import check, event_payload, http_post, live_server_log, post, raw_exchange  # noqa: F401
from projects.models import Project

# --- the item cap ------------------------------------------------------------------------------------------------

TINY_SESSION = b'{"type":"session","length":2}\n{}\n'
TINY_SESSION_NO_LENGTH = b'{"type":"session"}\n{}\n'


def compact_gzip(repeated: bytes, count: int) -> bytes:
    """`{}` then `repeated` `count` times, gzip-compressed, built from one compressed block reused (no huge buffer)."""
    block = repeated * 10_000
    assert count % 10_000 == 0
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [deflate.compress(b"{}\n") + deflate.flush(zlib.Z_FULL_FLUSH)]
    segment = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH) == segment  # the state resets at a full flush
    parts += [segment] * (count // 10_000)
    parts.append(deflate.flush())
    crc = zlib.crc32(b"{}\n")
    for _ in range(count // 10_000):
        crc = zlib.crc32(block, crc)
    size = (3 + len(block) * (count // 10_000)) % 2**32
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + b"".join(parts) + crc.to_bytes(4, "little") + size.to_bytes(4, "little")


@pytest.mark.parametrize("item", [TINY_SESSION, TINY_SESSION_NO_LENGTH], ids=["with-length", "without-length"])
def test_millions_of_items_are_refused_after_the_cap(client, project, settings, monkeypatch, item):
    """About 4 million items in a few hundred KB of gzip: refused with a 413 once the cap is passed. The work is
    counted, not timed: the parser looks at no more than cap + 1 item headers and reads a small part of the body."""
    body = compact_gzip(item, 4_000_000)
    assert len(body) < 1024 * 1024
    parsed = []
    real_parse = envelope_module.parse_header_line

    def counting_parse(line, what):
        parsed.append(what)
        return real_parse(line, what)

    monkeypatch.setattr(envelope_module, "parse_header_line", counting_parse)
    response = post(client, project, body, query="sentry_key={key}", HTTP_CONTENT_ENCODING="gzip")
    check(response, 413, project)
    assert "at most 1000 items" in response.json()["detail"]
    assert parsed.count("envelope item header") == settings.MAX_ENVELOPE_ITEMS
    # and it stopped reading: the decompressed stream was read a few chunks past the cap's worth of items
    reader = FramedReader(decompressing_reader(_BytesSource(body), "gzip"), settings.MAX_ENVELOPE_SIZE, "envelope")
    read_envelope_headers(reader)
    with pytest.raises(PayloadTooLarge):
        read_envelope_items(reader)
    assert reader.total <= len(item) * (settings.MAX_ENVELOPE_ITEMS + 1) + 2 * 64 * 1024


def test_the_cap_is_a_setting(client, project, settings):
    settings.MAX_ENVELOPE_ITEMS = 3
    payload = event_payload()
    first = b'{}\n{"type":"event","length":%d}\n%s\n' % (len(payload), payload)
    three = first + TINY_SESSION * 2
    check(post(client, project, three, query="sentry_key={key}"), 200, project)
    check(post(client, project, three + TINY_SESSION, query="sentry_key={key}"), 413, project)


def test_blank_lines_do_not_count_and_are_skipped_in_bulk(client, project):
    """Millions of newlines between items cost a few regex scans per 64 KiB, and are not items."""
    payload = event_payload()
    body = b'{}\n{"type":"event","length":%d}\n%s\n' % (len(payload), payload) + b"\n \r\n\t" * 2_000_000
    check(
        post(client, project, gzip.compress(body), query="sentry_key={key}", HTTP_CONTENT_ENCODING="gzip"), 200, project
    )


class _BytesSource:
    def __init__(self, data: bytes):
        self.data = memoryview(data)

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = bytes(self.data[:size]), self.data[size:]
        return chunk


def test_item_header_line_bound():
    """Item headers are bounded tighter than the envelope header: an SDK's are well under a KiB."""
    body = b'{}\n{"type": "session", "pad": "%s"}\n{}\n' % (b"x" * (envelope_module.MAX_ITEM_HEADER_LINE_SIZE + 1))
    reader = FramedReader(_BytesSource(body), 10**9, "envelope")
    read_envelope_headers(reader)
    with pytest.raises(BadRequest, match="too long"):
        read_envelope_items(reader)


@pytest.mark.live
def test_live_server_refuses_too_many_items(live_server_url, live_server_log, transactional_db):  # noqa: F811
    """Through the real server: a 413 with a detail, nothing in its log but the refusal."""
    project = Project.objects.create(name="Many items")
    offset = live_server_log.stat().st_size
    # small enough that the server has read all of it when it refuses (no reset of an unread body)
    body = compact_gzip(TINY_SESSION, 10_000)
    raw = raw_exchange(live_server_url, http_post(project, body, "sentry_key={key}", {"Content-Encoding": "gzip"}))
    head, _, content = raw.partition(b"\r\n\r\n")
    assert int(head.split(b" ", 2)[1]) == 413, raw[:2000]
    assert "at most" in json.loads(content)["detail"]
    with open(live_server_log, "rb") as f:
        f.seek(offset)
        assert b"Traceback" not in f.read()
