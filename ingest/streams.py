"""Bounded, streaming readers for request bodies: the wire limit, decompression, and line/length framing.

Nothing here reads a whole body into memory: each reader hands out at most the requested number of bytes, and
limits are checked as bytes pass, so a decompression bomb is cut off at the limit.
"""

import re
import zlib

import brotli
import zstandard

from ingest.errors import BadRequest, PayloadTooLarge

CHUNK = 64 * 1024
BLANK = re.compile(rb"[ \t\r\n]*")


class LimitedReader:
    """Reads the raw body; more than `limit` bytes is a 413."""

    def __init__(self, source, limit: int, what: str, content_length: int | None = None):
        self.source = source
        self.limit = limit
        self.what = what
        self.remaining = content_length  # None: read until the stream ends (de-chunked by the server)
        self.total = 0

    def read(self, size: int = CHUNK) -> bytes:
        if self.remaining is not None:
            if self.remaining <= 0:
                return b""
            size = min(size, self.remaining)
        try:
            data = self.source.read(size)
        except Exception as e:  # a client that hangs up or sends broken chunking
            raise BadRequest(f"could not read the request body: {e.__class__.__name__}") from e
        if self.remaining is not None:
            if not data:
                raise BadRequest("the request body is shorter than its Content-Length")
            self.remaining -= len(data)
        self.total += len(data)
        if self.total > self.limit:
            raise PayloadTooLarge(f"{self.what} exceeds {self.limit} bytes", size=self.total)
        return data


class ZlibReader:
    """gzip (wbits=31), zlib (15) or raw deflate (-15); concatenated gzip members are read in turn."""

    def __init__(self, source, wbits: int, name: str):
        self.source = source
        self.wbits = wbits
        self.name = name
        self.decompressor = zlib.decompressobj(wbits)
        self.pending = b""  # compressed input not yet fed
        self.finished = False

    def read(self, size: int = CHUNK) -> bytes:
        while not self.finished:
            if self.decompressor.eof:
                self._after_member()
                continue
            data = self.decompressor.unconsumed_tail or self.pending or self.source.read(CHUNK)
            self.pending = b""
            try:
                # with no input left, drain what zlib still holds; nothing at all then means a cut-off stream
                out = self.decompressor.decompress(data, size)
            except zlib.error as e:
                raise BadRequest(f"invalid {self.name} body: {e}") from e
            if out:
                return out
            if not data and not self.decompressor.eof:
                raise BadRequest(f"truncated {self.name} body")
        return b""

    def _after_member(self) -> None:
        """At the end of one compressed stream: another gzip member, zero padding, the end, or junk (400)."""
        rest = self.decompressor.unused_data
        # the end of a stream may coincide with the end of a chunk: look at what the source has left
        while not rest.strip(b"\x00"):
            rest = self.source.read(CHUNK)
            if not rest:
                self.finished = True
                return
        if self.wbits <= 16:
            raise BadRequest(f"trailing data after the {self.name} stream")
        self.decompressor = zlib.decompressobj(self.wbits)
        self.pending = rest.lstrip(b"\x00")


class BrotliReader:
    def __init__(self, source):
        self.source = source
        self.decompressor = brotli.Decompressor()
        self.finished = False

    def read(self, size: int = CHUNK) -> bytes:
        while not self.finished:
            try:
                if not self.decompressor.can_accept_more_data():
                    out = self.decompressor.process(b"", output_buffer_limit=size)
                else:
                    data = self.source.read(CHUNK)
                    # with no input left, the decoder may still hold output for what it has taken in already
                    out = self.decompressor.process(data, output_buffer_limit=size)
                    if not data and not out:
                        self.finished = True
                        if not self.decompressor.is_finished():
                            raise BadRequest("truncated br body")
                        return b""
            except brotli.error as e:
                raise BadRequest(f"invalid br body: {e}") from e
            if out:
                return out
        return b""


ZSTD_MAGIC = 0xFD2FB528
ZSTD_SKIPPABLE_MAGIC = 0x184D2A50  # the low 4 bits are free


class ZstdFrameTracker:
    """Follows zstd frame and block headers in the compressed bytes as they pass.

    The zstandard stream reader answers b"" both at the end of the last frame and at the end of a cut-off body;
    this tells the two apart. It only reads headers (a few bytes per block), the decoder validates the rest.
    """

    def __init__(self, source):
        self.source = source
        self.state = "magic"  # the structure being collected: magic, frame_header, block, checksum, skippable
        self.header = bytearray()
        self.need = 4  # bytes of the structure to collect before it can be parsed
        self.skip = 0  # payload bytes to pass over
        self.checksum = False
        self.frames = 0

    def read(self, size: int = CHUNK) -> bytes:
        data = self.source.read(size)
        if self.state != "unknown":
            self._track(memoryview(data))
        return data

    @property
    def complete(self) -> bool:
        """At a frame boundary after at least one frame (or lost track: then the decoder has judged already)."""
        if self.state == "unknown":
            return True
        return self.state == "magic" and not self.header and not self.skip and self.frames > 0

    def _track(self, data: memoryview) -> None:
        i, n = 0, len(data)
        while i < n and self.state != "unknown":
            if self.skip:
                take = min(self.skip, n - i)
                self.skip -= take
                i += take
                continue
            take = min(self.need - len(self.header), n - i)
            self.header += data[i : i + take]
            i += take
            if len(self.header) == self.need:
                self._parse()

    def _expect(self, state: str, need: int) -> None:
        self.state, self.need = state, need
        self.header.clear()

    def _parse(self) -> None:
        header = self.header
        if self.state == "magic":
            magic = int.from_bytes(header[:4], "little")
            if magic == ZSTD_MAGIC:
                self.state, self.need = "frame_header", 5  # keep the magic: the descriptor byte follows it
            elif magic & 0xFFFFFFF0 == ZSTD_SKIPPABLE_MAGIC:
                self._expect("skippable", 4)
            else:
                self.state = "unknown"
        elif self.state == "frame_header" and self.need == 5:
            descriptor = header[4]
            single_segment = descriptor >> 5 & 1
            self.checksum = bool(descriptor >> 2 & 1)
            size = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3]
            size += (single_segment, 2, 4, 8)[descriptor >> 6]
            self.need = size  # always more than 5
        elif self.state == "frame_header":
            self._expect("block", 3)
        elif self.state == "block":
            block = int.from_bytes(header, "little")
            block_type, block_size = block >> 1 & 3, block >> 3
            if block_type == 3:
                self.state = "unknown"  # reserved: the decoder reports it
                return
            self.skip = 1 if block_type == 1 else block_size
            if not block & 1:
                self._expect("block", 3)
            elif self.checksum:
                self._expect("checksum", 4)
            else:
                self.frames += 1
                self._expect("magic", 4)
        elif self.state == "checksum":
            self.frames += 1
            self._expect("magic", 4)
        elif self.state == "skippable":
            self.skip = int.from_bytes(header, "little")
            self.frames += 1
            self._expect("magic", 4)


ZSTD_MAX_WINDOW = 8 * 1024 * 1024


class ZstdReader:
    def __init__(self, source):
        self.tracker = ZstdFrameTracker(source)
        # a bounded window keeps the decoder's own memory small, whatever a (hostile) frame header asks for
        decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self.reader = decompressor.stream_reader(self.tracker, read_across_frames=True)

    def read(self, size: int = CHUNK) -> bytes:
        try:
            data = self.reader.read(size)
        except zstandard.ZstdError as e:
            raise BadRequest(f"invalid zstd body: {e}") from e
        if not data and not self.tracker.complete:
            raise BadRequest("truncated zstd body")
        return data


class PeekReader:
    """Lets the deflate reader look at the first two bytes to choose between zlib and raw deflate framing."""

    def __init__(self, source):
        self.source = source
        self.buffer = b""

    def peek(self, n: int) -> bytes:
        while len(self.buffer) < n:
            data = self.source.read(CHUNK)
            if not data:
                break
            self.buffer += data
        return self.buffer[:n]

    def read(self, size: int = CHUNK) -> bytes:
        if self.buffer:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
            return data
        return self.source.read(size)


def _looks_like_zlib(head: bytes) -> bool:
    return len(head) == 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


IGNORED_ENCODINGS = {"", "identity", "utf-8", "utf8", "none"}


KNOWN_ENCODINGS = {"gzip", "x-gzip", "deflate", "br", "zstd"}
MAX_ENCODINGS = 3


def decompressing_reader(source, content_encoding: str):
    """Wrap `source` in the decoders for a Content-Encoding header value.

    A list names the codings in the order the sender applied them (RFC 9110 8.4), so they are undone last first.
    """
    encodings = [e.strip().lower() for e in (content_encoding or "").split(",")]
    encodings = [e for e in encodings if e not in IGNORED_ENCODINGS]
    if len(encodings) > MAX_ENCODINGS:
        raise BadRequest(f"too many Content-Encodings: {len(encodings)} (at most {MAX_ENCODINGS})")
    for encoding in encodings:
        if encoding not in KNOWN_ENCODINGS:
            raise BadRequest(f"unsupported Content-Encoding: {encoding!r}")
    reader = source
    for encoding in reversed(encodings):
        if encoding in ("gzip", "x-gzip"):
            reader = ZlibReader(reader, 16 + zlib.MAX_WBITS, "gzip")
        elif encoding == "deflate":
            peek = PeekReader(reader)
            wbits = zlib.MAX_WBITS if _looks_like_zlib(peek.peek(2)) else -zlib.MAX_WBITS
            reader = ZlibReader(peek, wbits, "deflate")
        elif encoding == "br":
            reader = BrotliReader(reader)
        else:
            reader = ZstdReader(reader)
    return reader


class FramedReader:
    """Line and length framing over a decompressed stream, with a cap on the total decompressed size."""

    def __init__(self, source, limit: int, what: str):
        self.source = source
        self.limit = limit
        self.what = what
        self.total = 0
        self.buffer = bytearray()
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self.source.read(CHUNK)
        if not data:
            self.eof = True
            return False
        self.total += len(data)
        if self.total > self.limit:
            raise PayloadTooLarge(f"{self.what} exceeds {self.limit} bytes after decompression", size=self.total)
        self.buffer += data
        return True

    def read_rest(self) -> bytes:
        """Everything that is left (bounded by the reader's limit)."""
        while self._fill():
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def readline(self, max_length: int, too_long: Exception) -> bytes | None:
        """The next line without its newline; None at the end of the stream. Longer than max_length: raise."""
        searched = 0
        while True:
            index = self.buffer.find(b"\n", searched)
            if index >= 0:
                if index > max_length:
                    raise too_long
                line = bytes(self.buffer[:index])
                del self.buffer[: index + 1]
                return line
            searched = len(self.buffer)
            if searched > max_length:
                raise too_long
            if not self._fill():
                if not self.buffer:
                    return None
                line = bytes(self.buffer)
                self.buffer.clear()
                return line

    def read_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if not self._fill():
                raise BadRequest(f"an envelope item's length ({n}) runs past the end of the body")
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def skip_exact(self, n: int) -> None:
        while n > 0:
            if not self.buffer and not self._fill():
                raise BadRequest("an envelope item's length runs past the end of the body")
            take = min(n, len(self.buffer))
            del self.buffer[:take]
            n -= take

    def skip_blank(self) -> None:
        """Drop whitespace up to the next non-blank byte: a body of nothing but newlines is skipped a chunk at a time
        rather than one line at a time."""
        while True:
            del self.buffer[: BLANK.match(self.buffer).end()]
            if self.buffer or not self._fill():
                return

    def skip_line(self) -> None:
        while True:
            index = self.buffer.find(b"\n")
            if index >= 0:
                del self.buffer[: index + 1]
                return
            self.buffer.clear()
            if not self._fill():
                return

    def end_of_item(self) -> None:
        """After a payload with a length: a newline (or CRLF) or the end of the body must follow."""
        while len(self.buffer) < 2 and self._fill():
            pass  # a CRLF may be split across two reads
        if not self.buffer:
            return
        if self.buffer[:1] == b"\n":
            del self.buffer[:1]
        elif self.buffer[:2] == b"\r\n" or self.buffer == b"\r":
            del self.buffer[:2]
        else:
            raise BadRequest("an envelope item's payload is longer than its length header")
