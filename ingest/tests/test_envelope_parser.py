"""Unit tests for the bounded readers (ingest.streams) and the envelope grammar (ingest.envelope); no database."""

import gzip
import io
import json
import zlib

import brotli
import pytest
import zstandard

from ingest.envelope import read_envelope_headers, read_envelope_items
from ingest.errors import BadRequest, PayloadTooLarge
from ingest.streams import (
    CHUNK,
    FramedReader,
    LimitedReader,
    ZstdFrameTracker,
    decompressing_reader,
)


class Dribble:
    """A source that hands out at most `step` bytes per read, to put every boundary somewhere awkward."""

    def __init__(self, data: bytes, step: int = 3):
        self.data = memoryview(data)
        self.step = step
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        n = self.step if size is None or size < 0 else min(size, self.step)
        data, self.data = bytes(self.data[:n]), self.data[n:]
        return data


class Failing:
    def read(self, size: int = -1) -> bytes:
        raise OSError("connection reset")


def read_all(reader, size: int = CHUNK) -> bytes:
    parts = []
    while True:
        data = reader.read(size)
        if not data:
            return b"".join(parts)
        assert len(data) <= max(size, 128 * 1024)  # decoders never hand out much more than asked
        parts.append(data)


def framed(data: bytes, limit: int = 10**9, step: int | None = None) -> FramedReader:
    source = Dribble(data, step) if step else io.BytesIO(data)
    return FramedReader(source, limit, "envelope")


# --- LimitedReader ------------------------------------------------------------------------------------------------


class TestLimitedReader:
    def test_reads_up_to_content_length(self):
        reader = LimitedReader(io.BytesIO(b"hello world, and more"), 100, "body", content_length=11)
        assert read_all(reader) == b"hello world"

    def test_short_body(self):
        reader = LimitedReader(io.BytesIO(b"hello"), 100, "body", content_length=11)
        with pytest.raises(BadRequest, match="shorter than its Content-Length"):
            read_all(reader)

    def test_limit_without_content_length(self):
        reader = LimitedReader(io.BytesIO(b"x" * 101), 100, "body")
        with pytest.raises(PayloadTooLarge, match="body exceeds 100 bytes"):
            read_all(reader)

    def test_exactly_the_limit(self):
        assert read_all(LimitedReader(io.BytesIO(b"x" * 100), 100, "body")) == b"x" * 100

    def test_source_errors_become_400(self):
        with pytest.raises(BadRequest, match="OSError"):
            LimitedReader(Failing(), 100, "body").read()


# --- decoders -----------------------------------------------------------------------------------------------------

PAYLOAD = json.dumps({"message": "hello " * 2000, "n": list(range(3000))}).encode()

ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


class TestDecoders:
    @pytest.mark.parametrize("encoding", sorted(ENCODERS))
    @pytest.mark.parametrize(
        "step,size", [(1, CHUNK)] + [(step, size) for step in (7, 4096, CHUNK) for size in (1, 100, CHUNK)]
    )
    def test_round_trip_with_awkward_boundaries(self, encoding, step, size):
        """step: bytes per read of the compressed body; size: bytes asked of the decoder per read."""
        body = ENCODERS[encoding](PAYLOAD)
        assert read_all(decompressing_reader(Dribble(body, step), encoding), size) == PAYLOAD

    def test_raw_deflate(self):
        assert read_all(decompressing_reader(Dribble(raw_deflate(PAYLOAD), 5), "deflate")) == PAYLOAD

    @pytest.mark.parametrize("value", ["", "identity", "utf-8", "UTF8", " Identity ", None])
    def test_ignored_encodings(self, value):
        assert read_all(decompressing_reader(io.BytesIO(PAYLOAD), value)) == PAYLOAD

    def test_encodings_are_undone_last_applied_first(self):
        body = zstandard.ZstdCompressor().compress(brotli.compress(gzip.compress(PAYLOAD)))
        assert read_all(decompressing_reader(io.BytesIO(body), "gzip, br, zstd")) == PAYLOAD

    @pytest.mark.parametrize("value", ["compress", "gzip, lzma", "*", "gzip;q=1"])
    def test_unknown_encoding(self, value):
        with pytest.raises(BadRequest, match="unsupported Content-Encoding"):
            decompressing_reader(io.BytesIO(b""), value)

    def test_unknown_encoding_is_refused_before_reading(self):
        source = Dribble(zlib.compress(PAYLOAD))
        with pytest.raises(BadRequest):
            decompressing_reader(source, "bogus, deflate")
        assert source.reads == 0

    def test_too_many_encodings(self):
        with pytest.raises(BadRequest, match="too many"):
            decompressing_reader(io.BytesIO(b""), "gzip, gzip, gzip, gzip")

    @pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
    def test_every_truncation_is_an_error(self, encoding):
        """Cut anywhere (including to nothing), a compressed body is a 400, never a silently shorter body."""
        body = ENCODERS[encoding](b'{"message": "short and sweet"}\n' * 3)
        for cut in range(len(body)):
            with pytest.raises(BadRequest):
                read_all(decompressing_reader(Dribble(body[:cut], 4), encoding))

    @pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
    def test_trailing_junk_is_an_error(self, encoding):
        body = ENCODERS[encoding](PAYLOAD) + b"junk!"
        with pytest.raises(BadRequest):
            read_all(decompressing_reader(io.BytesIO(body), encoding))

    def test_trailing_junk_after_raw_deflate(self):
        with pytest.raises(BadRequest, match="trailing data"):
            read_all(decompressing_reader(io.BytesIO(raw_deflate(PAYLOAD) + b"junk"), "deflate"))

    @pytest.mark.parametrize("step", [1, 10, CHUNK])
    def test_gzip_members_and_zero_padding(self, step):
        body = gzip.compress(PAYLOAD[:1000]) + gzip.compress(PAYLOAD[1000:]) + bytes(7)
        assert read_all(decompressing_reader(Dribble(body, step), "gzip")) == PAYLOAD

    def test_second_gzip_member_starting_on_a_read_boundary(self):
        first = gzip.compress(PAYLOAD[:1000])
        body = first + gzip.compress(PAYLOAD[1000:])
        assert read_all(decompressing_reader(Dribble(body, len(first)), "gzip")) == PAYLOAD

    @pytest.mark.parametrize("step", [1, 10, CHUNK])
    def test_zstd_frames_skippable_frames_and_checksums(self, step):
        plain = zstandard.ZstdCompressor()
        checked = zstandard.ZstdCompressor(write_checksum=True, write_content_size=False)
        skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"skip!"
        body = plain.compress(PAYLOAD[:5000]) + skippable + checked.compress(PAYLOAD[5000:])
        assert read_all(decompressing_reader(Dribble(body, step), "zstd")) == PAYLOAD

    def test_zstd_streamed_frame_without_content_size(self):
        compressor = zstandard.ZstdCompressor().compressobj()
        body = compressor.compress(PAYLOAD) + compressor.flush()
        assert read_all(decompressing_reader(Dribble(body, 100), "zstd")) == PAYLOAD

    @pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
    def test_garbage(self, encoding):
        with pytest.raises(BadRequest):
            read_all(decompressing_reader(io.BytesIO(bytes(range(256)) * 8), encoding))

    def test_empty_body(self):
        for encoding in ("gzip", "deflate", "br", "zstd"):
            with pytest.raises(BadRequest):
                read_all(decompressing_reader(io.BytesIO(b""), encoding))

    @pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
    def test_bomb_output_comes_in_bounded_pieces(self, encoding):
        """64 MiB of zeros: every read hands out a bounded piece; nothing is inflated ahead."""
        zeros = bytes(64 * 1024 * 1024)
        body = brotli.compress(zeros, quality=1) if encoding == "br" else ENCODERS[encoding](zeros)
        reader = decompressing_reader(io.BytesIO(body), encoding)
        biggest = 0
        for _ in range(50):
            biggest = max(biggest, len(reader.read(CHUNK)))
        assert 0 < biggest <= 128 * 1024

    def test_source_errors_pass_through_zstd(self):
        """A wire-limit or hang-up error raised by the body reader reaches the view through the zstd decoder."""
        body = zstandard.ZstdCompressor().compress(PAYLOAD)
        limited = LimitedReader(io.BytesIO(body), len(body) - 10, "envelope")
        with pytest.raises(PayloadTooLarge):
            read_all(decompressing_reader(limited, "zstd"))


class TestZstdFrameTracker:
    def test_complete_only_at_a_frame_boundary(self):
        body = zstandard.ZstdCompressor(write_checksum=True).compress(PAYLOAD)
        tracker = ZstdFrameTracker(Dribble(body, 1))
        assert not tracker.complete
        for _ in range(len(body) - 1):
            tracker.read(1)
            assert not tracker.complete
        tracker.read(1)
        assert tracker.complete

    def test_unknown_magic_gives_up_tracking(self):
        tracker = ZstdFrameTracker(io.BytesIO(b"not zstd at all"))
        tracker.read(100)
        assert tracker.complete  # the decoder reports garbage itself


# --- FramedReader -------------------------------------------------------------------------------------------------


class TestFramedReader:
    @pytest.mark.parametrize("step", [None, 1, 2])
    def test_readline(self, step):
        reader = framed(b"one\ntwo\r\n\nlast", step=step)
        too_long = BadRequest("too long")
        assert [reader.readline(100, too_long) for _ in range(5)] == [b"one", b"two\r", b"", b"last", None]

    def test_readline_limit(self):
        assert framed(b"x" * 10 + b"\n").readline(10, BadRequest("too long")) == b"x" * 10
        with pytest.raises(BadRequest, match="too long"):
            framed(b"x" * 11 + b"\n").readline(10, BadRequest("too long"))
        with pytest.raises(PayloadTooLarge):
            framed(b"x" * 11).readline(10, PayloadTooLarge("too long"))  # no newline at all

    def test_readline_of_an_endless_line_stops_at_the_limit(self):
        source = Dribble(b"x" * 10_000_000, CHUNK)
        with pytest.raises(BadRequest):
            FramedReader(source, 10**9, "envelope").readline(1000, BadRequest("too long"))
        assert source.reads <= 2

    def test_total_limit(self):
        with pytest.raises(PayloadTooLarge, match="after decompression"):
            framed(b"x" * 1000, limit=999).read_rest()
        assert framed(b"x" * 1000, limit=1000).read_rest() == b"x" * 1000

    @pytest.mark.parametrize("step", [None, 1, 5])
    def test_read_exact_and_end_of_item(self, step):
        reader = framed(b"12345\nabc\r\nxyz\r\nlast\r", step=step)
        assert reader.read_exact(5) == b"12345"
        reader.end_of_item()
        assert reader.read_exact(3) == b"abc"
        reader.end_of_item()  # CRLF, split across reads when step is 1
        assert reader.read_exact(3) == b"xyz"
        reader.end_of_item()
        assert reader.read_exact(4) == b"last"
        reader.end_of_item()  # a lone CR at the end of the body
        assert reader.readline(10, BadRequest("x")) is None
        reader = framed(b"xyz", step=step)
        reader.read_exact(3)
        reader.end_of_item()  # the end of the body also ends an item
        assert reader.readline(10, BadRequest("x")) is None

    def test_read_exact_past_the_end(self):
        with pytest.raises(BadRequest, match="runs past the end"):
            framed(b"1234").read_exact(5)

    def test_payload_longer_than_its_length(self):
        reader = framed(b"123456\n")
        reader.read_exact(5)
        with pytest.raises(BadRequest, match="longer than its length"):
            reader.end_of_item()

    @pytest.mark.parametrize("step", [None, 1, 3])
    def test_skip_exact_and_skip_line(self, step):
        reader = framed(b"0123456789\nskip this line\nkeep", step=step)
        reader.skip_exact(10)
        reader.end_of_item()
        reader.skip_line()
        assert reader.read_rest() == b"keep"

    def test_skip_exact_past_the_end(self):
        with pytest.raises(BadRequest, match="runs past the end"):
            framed(b"1234").skip_exact(5)

    def test_skip_line_to_the_end(self):
        reader = framed(b"no newline here")
        reader.skip_line()
        assert reader.readline(100, BadRequest("x")) is None

    def test_skipping_a_huge_item_keeps_memory_flat(self):
        source = Dribble(b"y" * (8 * CHUNK) + b"\nafter", CHUNK)
        reader = FramedReader(source, 10**9, "envelope")
        reader.skip_line()
        assert len(reader.buffer) < 2 * CHUNK
        assert reader.read_rest() == b"after"


# --- the envelope grammar -----------------------------------------------------------------------------------------

EVENT = json.dumps({"message": "hi", "event_id": "a" * 32}).encode()


def items_of(body: bytes, step: int | None = None):
    reader = framed(body, step=step)
    return read_envelope_headers(reader), read_envelope_items(reader)


def line(obj) -> bytes:
    return json.dumps(obj).encode()


class TestEnvelopeGrammar:
    @pytest.mark.parametrize("step", [None, 1, 4])
    @pytest.mark.parametrize("with_length", [True, False])
    @pytest.mark.parametrize("trailing", [b"", b"\n", b"\n\n"])
    def test_single_event(self, step, with_length, trailing):
        item = {"type": "event", "length": len(EVENT)} if with_length else {"type": "event"}
        body = line({"event_id": "b" * 32}) + b"\n" + line(item) + b"\n" + EVENT + trailing
        headers, items = items_of(body, step)
        assert headers == {"event_id": "b" * 32}
        assert items.event == EVENT
        assert items.item_types == ["event"]

    def test_envelope_header_only(self):
        for body in (b"{}", b"{}\n", b"{}\n\n"):
            headers, items = items_of(body)
            assert headers == {} and items.event is None and items.item_types == []

    @pytest.mark.parametrize("body", [b"", b"\n", b"  \n"])
    def test_empty(self, body):
        with pytest.raises(BadRequest, match="empty envelope"):
            items_of(body)

    @pytest.mark.parametrize("header", [b"nope", b"[]", b"42", b'"str"', b"{'single': 1}"])
    def test_malformed_envelope_header(self, header):
        with pytest.raises(BadRequest, match="malformed envelope header"):
            items_of(header + b"\n")

    def test_header_line_limit(self, settings):
        settings.MAX_HEADER_LINE_SIZE = 100
        with pytest.raises(BadRequest, match="too long"):
            items_of(line({"pad": "x" * 200}) + b"\n")
        with pytest.raises(BadRequest, match="too long"):
            items_of(b"{}\n" + line({"type": "session", "pad": "x" * 200}) + b"\n{}")

    def test_malformed_item_header(self):
        with pytest.raises(BadRequest, match="malformed envelope item header"):
            items_of(b"{}\n{type: event}\n{}")

    def test_binary_payloads_with_newlines_are_skipped_by_length(self):
        binary = b"\n\x00\xff\n{}\n" * 50
        body = b"\n".join(
            [
                b"{}",
                line({"type": "attachment", "length": len(binary)}),
                binary,
                line({"type": "event"}),
                EVENT,
                line({"type": "replay_recording", "length": len(binary)}),
                binary,
            ]
        )
        for step in (None, 1, 7):
            _, items = items_of(body, step)
            assert items.event == EVENT
            assert items.item_types == ["attachment", "event", "replay_recording"]

    def test_items_without_length_are_skipped_line_wise(self):
        body = b"\n".join([b"{}", line({"type": "session"}), b'{"sid": 1}', line({"type": "client_report"}), b"{}"])
        _, items = items_of(body)
        assert items.event is None and items.item_types == ["session", "client_report"]

    def test_only_the_first_event_is_kept(self):
        other = json.dumps({"message": "second"}).encode()
        body = b"\n".join([b"{}", line({"type": "event"}), EVENT, line({"type": "event"}), other])
        assert items_of(body)[1].event == EVENT

    def test_event_with_zero_length(self):
        body = b"{}\n" + line({"type": "event", "length": 0}) + b"\n"
        assert items_of(body)[1].event == b""  # the view then says the JSON is malformed

    def test_event_without_payload(self):
        with pytest.raises(BadRequest, match="without payload"):
            items_of(b"{}\n" + line({"type": "event"}))

    @pytest.mark.parametrize("length", [-1, "5", 2.0, True, [5]])
    def test_invalid_length(self, length):
        with pytest.raises(BadRequest, match="invalid envelope item length"):
            items_of(b"{}\n" + line({"type": "session", "length": length}) + b"\n{}")

    def test_length_past_the_end(self):
        with pytest.raises(BadRequest, match="past the end"):
            items_of(b"{}\n" + line({"type": "event", "length": len(EVENT) + 1}) + b"\n" + EVENT)

    def test_event_size_limit(self, settings):
        """MAX_EVENT_TRIM_SIZE bounds an event item (a larger one than MAX_EVENT_SIZE is trimmed at digest)."""
        settings.MAX_EVENT_SIZE = settings.MAX_EVENT_TRIM_SIZE = len(EVENT) - 1
        with pytest.raises(PayloadTooLarge, match="event exceeds"):
            items_of(b"{}\n" + line({"type": "event", "length": len(EVENT)}) + b"\n" + EVENT)
        with pytest.raises(PayloadTooLarge, match="event exceeds"):
            items_of(b"{}\n" + line({"type": "event"}) + b"\n" + EVENT)
        # other items are not events: they only count towards the envelope limit
        items_of(b"{}\n" + line({"type": "attachment", "length": len(EVENT)}) + b"\n" + EVENT)

    def test_event_at_exactly_the_size_limit(self, settings):
        settings.MAX_EVENT_SIZE = settings.MAX_EVENT_TRIM_SIZE = len(EVENT)
        assert items_of(b"{}\n" + line({"type": "event"}) + b"\n" + EVENT)[1].event == EVENT

    def test_item_type_that_is_not_a_string(self):
        body = b"{}\n" + line({"type": 5}) + b"\n{}\n" + line({}) + b"\n{}"
        assert items_of(body)[1].item_types == ["5", ""]
