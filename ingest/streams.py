"""Bounded, streaming readers for request bodies: the wire limit, decompression, and line/length framing.

Nothing here reads a whole body into memory: each reader hands out at most the requested number of bytes, and
limits are checked as bytes pass, so a decompression bomb is cut off at the limit.
"""

import zlib

import brotli
import zstandard

from ingest.errors import BadRequest, PayloadTooLarge

CHUNK = 64 * 1024


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
            raise PayloadTooLarge(f"{self.what} exceeds {self.limit} bytes")
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
            if self.decompressor.unconsumed_tail:
                data = self.decompressor.unconsumed_tail
            elif self.pending:
                data, self.pending = self.pending, b""
            else:
                data = self.source.read(CHUNK)
                if not data:
                    if not self.decompressor.eof:
                        raise BadRequest(f"truncated {self.name} body")
                    self.finished = True
                    break
            try:
                out = self.decompressor.decompress(data, size)
            except zlib.error as e:
                raise BadRequest(f"invalid {self.name} body: {e}") from e
            if self.decompressor.eof:
                rest = self.decompressor.unused_data
                if rest.strip(b"\x00") and self.wbits > 16:
                    self.decompressor = zlib.decompressobj(self.wbits)
                    self.pending = rest
                elif rest.strip(b"\x00"):
                    raise BadRequest(f"trailing data after the {self.name} stream")
                else:
                    self.finished = True
            if out:
                return out
        return b""


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
                    if not data:
                        self.finished = True
                        if not self.decompressor.is_finished():
                            raise BadRequest("truncated br body")
                        return b""
                    out = self.decompressor.process(data, output_buffer_limit=size)
            except brotli.error as e:
                raise BadRequest(f"invalid br body: {e}") from e
            if out:
                return out
        return b""


class ZstdReader:
    def __init__(self, source):
        self.reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)

    def read(self, size: int = CHUNK) -> bytes:
        try:
            return self.reader.read(size)
        except zstandard.ZstdError as e:
            raise BadRequest(f"invalid zstd body: {e}") from e


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


def decompressing_reader(source, content_encoding: str):
    """Wrap `source` in the decoder for a Content-Encoding header value (possibly a list, applied in order)."""
    encodings = [e.strip().lower() for e in (content_encoding or "").split(",")]
    reader = source
    for encoding in encodings:
        if encoding in IGNORED_ENCODINGS:
            continue
        if encoding in ("gzip", "x-gzip"):
            reader = ZlibReader(reader, 16 + zlib.MAX_WBITS, "gzip")
        elif encoding == "deflate":
            peek = PeekReader(reader)
            wbits = zlib.MAX_WBITS if _looks_like_zlib(peek.peek(2)) else -zlib.MAX_WBITS
            reader = ZlibReader(peek, wbits, "deflate")
        elif encoding == "br":
            reader = BrotliReader(reader)
        elif encoding == "zstd":
            reader = ZstdReader(reader)
        else:
            raise BadRequest(f"unsupported Content-Encoding: {encoding!r}")
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
            raise PayloadTooLarge(f"{self.what} exceeds {self.limit} bytes after decompression")
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
        """After a payload with a length: a newline or the end of the body must follow."""
        if not self.buffer:
            self._fill()
        if not self.buffer:
            return
        if self.buffer[:1] == b"\n":
            del self.buffer[:1]
        elif self.buffer[:2] == b"\r\n":
            del self.buffer[:2]
        else:
            raise BadRequest("an envelope item's payload is longer than its length header")
