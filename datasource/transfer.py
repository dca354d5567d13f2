"""Import files of documents into a collection, and export a collection.

Import reads three shapes, told apart by the first character that is not
white space: ``[`` starts a JSON array; otherwise the file holds one document
per line (JSON lines, and ``mongoexport`` output), blank lines allowed, or,
when the first line is not a whole document, documents written over several
lines one after another (``mongoexport --pretty``). Every document goes
through ``datasource.extjson``. Files are read as a stream, never whole: a
line at a time for JSON lines, a chunk at a time otherwise, so memory holds
one batch of documents however large the file is.

A malformed document stops the import with an error naming the file, line
and column; since the documents reach ``Store.import_documents`` as a
generator, the store rolls the whole file back.

Export writes a collection ordered by id, a page of 1000 at a time, as JSON
lines (default) or as a JSON array, exactly as a re-import expects.
"""

from __future__ import annotations

import codecs
import json
import logging
import math
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from datasource.errors import DatasourceError, InvalidDocument
from datasource.extjson import INT64, ExtendedJSONError, decode_document
from datasource.query import MAX_LIMIT, Comparison, Filter, Or, Query
from datasource.storage.base import Document, DocumentId, Store, StoredDocument

__all__ = [
    "ExportFormat",
    "ProgressCallback",
    "export_collection",
    "export_file",
    "import_file",
    "import_stream",
    "read_documents",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes read since its previous call."""

ExportFormat = Literal["lines", "array"]

_CHUNK_SIZE = 1 << 20
_PROGRESS_STEP = 1 << 16
# A document that does not parse is only taken as cut off by the end of the
# buffer while less than this much text follows the error: MongoDB documents
# are at most 16 MiB, so more text after it means the error is real.
_MAX_PENDING = 16 << 20
# orjson turns integers beyond 64 bits into floats, so lines with a run of 19
# digits or more go through the exact decoder instead. The run is found by
# mapping digits to "0" and the rest to " ": ten times faster than a regex.
_DIGITS_TO_ZERO = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SPACE = re.compile(r"[ \t\r\n]*")
_INDEX_POINTER = re.compile(r"/([0-9]+)(?:/|$)")


def import_file(
    store: Store,
    collection: str,
    path: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    batch_size: int = 1000,
) -> int:
    """Import every document of a file into a collection, all or none.

    :raises OSError: when the file cannot be opened.
    :raises InvalidDocument: naming the file, line and column of a bad document.
    """
    with open(path, "rb") as file:
        return import_stream(store, collection, file, str(path), progress, batch_size)


def import_stream(
    store: Store,
    collection: str,
    file: IO[bytes],
    name: str,
    progress: ProgressCallback | None = None,
    batch_size: int = 1000,
) -> int:
    """Import the documents of an open binary file, all or none; return the count.

    A document the store refuses (a taken id, say) is named by its line too.

    :param name: how error messages call the file.
    """
    started = time.perf_counter()
    log = _LineLog(batch_size)
    documents = log.track(_read_located(file, name, progress))
    try:
        count = store.import_documents(collection, documents, batch_size=batch_size)
    except DatasourceError as exc:
        raise _with_line(exc, name, log) from None

    elapsed = time.perf_counter() - started
    logger.info(
        "imported %d documents from %s into %s in %.2f s",
        count,
        name,
        collection,
        elapsed,
    )
    return count


def read_documents(
    file: IO[bytes], name: str, progress: ProgressCallback | None = None
) -> Iterator[Document]:
    """Yield the decoded documents of a JSON array, JSON lines or mongoexport file.

    :param name: how error messages call the file.
    :raises InvalidDocument: naming the file, line and column of a bad document.
    """
    return (document for _, document in _read_located(file, name, progress))


def _read_located(
    file: IO[bytes], name: str, progress: ProgressCallback | None
) -> Iterator[tuple[int, Document]]:
    """Each document with the line where it starts; see ``read_documents``."""
    counter = _ByteCounter(progress)
    blank_lines, head = _first_line(file, counter)
    stripped = head.lstrip()

    if not stripped:
        counter.flush()
        return iter(())
    if stripped.startswith(b"["):
        stream = _TextStream(file, name, head, blank_lines, counter)
        return stream.documents(stream.array_values())
    if not head.endswith(b"\n"):
        rest = file.readline()
        counter.add(len(rest))
        head += rest
    if _is_whole_value(head):
        lines = chain([head], file)
        return _read_lines(lines, name, blank_lines + 1, counter)
    stream = _TextStream(file, name, head, blank_lines, counter)
    return stream.documents(stream.values())


def export_collection(
    store: Store,
    collection: str,
    out: IO[bytes],
    output_format: ExportFormat = "lines",
) -> int:
    """Write every document of a collection, ordered by id; return the count.

    :param output_format: ``lines`` for one document per line, ``array`` for
        a JSON array, still with one document per line.
    """
    write_page = _write_lines if output_format == "lines" else _write_elements
    count = 0
    if output_format == "array":
        out.write(b"[")

    for page in _pages(store, collection):
        write_page(out, [stored.body for stored in page], count == 0)
        count += len(page)

    if output_format == "array":
        out.write(b"\n]\n" if count else b"]\n")
    logger.info("exported %d documents from %s", count, collection)
    return count


def _write_lines(out: IO[bytes], bodies: list[bytes], is_first: bool) -> None:
    out.write(b"\n".join(bodies) + b"\n")


def _write_elements(out: IO[bytes], bodies: list[bytes], is_first: bool) -> None:
    out.write((b"\n" if is_first else b",\n") + b",\n".join(bodies))


def export_file(
    store: Store,
    collection: str,
    path: str | os.PathLike[str],
    output_format: ExportFormat = "lines",
) -> int:
    """Export a collection to a file, replacing it only once the export is whole.

    :raises OSError: when the file cannot be written.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as out:
            count = export_collection(store, collection, out, output_format)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return count


class _ByteCounter:
    """Reports bytes read to a progress callback, in steps rather than per line."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self._progress = progress
        self._pending = 0

    def add(self, size: int) -> None:
        self._pending += size
        if self._progress is not None and self._pending >= _PROGRESS_STEP:
            self.flush()

    def flush(self) -> None:
        if self._progress is not None and self._pending:
            self._progress(self._pending)
        self._pending = 0


def _first_line(file: IO[bytes], counter: _ByteCounter) -> tuple[int, bytes]:
    """Skip blank lines; return how many there were and the first other line.

    The line is read up to one chunk, so that a JSON array written on a
    single line is never read whole here. A byte order mark is dropped.
    """
    blank_lines = 0
    line = file.readline(_CHUNK_SIZE)
    counter.add(len(line))
    line = line.removeprefix(codecs.BOM_UTF8)
    while line and line.endswith(b"\n") and not line.strip():
        blank_lines += 1
        line = file.readline(_CHUNK_SIZE)
        counter.add(len(line))
    return blank_lines, line


def _is_whole_value(line: bytes) -> bool:
    """Whether a first line holds a whole JSON value, telling lines from pretty."""
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _read_lines(
    lines: Iterable[bytes], name: str, first_number: int, counter: _ByteCounter
) -> Iterator[tuple[int, Document]]:
    """Decode one document per line, skipping blank lines."""
    for number, line in enumerate(lines, start=first_number):
        if number != first_number:
            counter.add(len(line))
        if line.isspace():
            continue
        yield number, _decode_line(line, name, number)
    counter.flush()


def _decode_line(line: bytes, name: str, number: int) -> Document:
    """One line's document: orjson for speed, the exact decoder for long digits."""
    try:
        if _LONG_DIGIT_RUN in line.translate(_DIGITS_TO_ZERO):
            text = line.decode("utf-8")
            value = _DECODER.decode(text)
            if _SURROGATE_ESCAPE.search(text):
                _check_text(value)
            return decode_document(value)
        return decode_document(orjson.loads(line))
    except json.JSONDecodeError as exc:
        raise _located(name, number, exc.colno, f"invalid JSON ({exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise _located(name, number, None, f"not UTF-8 ({exc.reason})") from None
    except (ValueError, RecursionError) as exc:
        raise _located(name, number, None, _reason(exc)) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the document nests objects and arrays too deeply"
    return str(exc)


def _located(name: str, line: int, column: int | None, reason: str) -> InvalidDocument:
    """The import error for a bad document, with where it is."""
    where = f"line {line}" if column is None else f"line {line}, column {column}"
    return InvalidDocument(
        f"{name}, {where}: {reason}.",
        extra={"file": name, "line": line, "column": column},
    )


def _exact_integer(text: str) -> int:
    number = int(text)
    if not INT64[0] <= number <= INT64[1]:
        raise ValueError(
            f"the integer {text} does not fit in 64 bits, so no store can keep "
            "it exactly; write it as a string"
        )
    return number


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text} is too large for a double")
    return number


def _refuse_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number; use a number or null instead")


# The standard library decoder, told to refuse what orjson refuses and to keep
# 64-bit integers exact.
_DECODER = json.JSONDecoder(
    parse_int=_exact_integer,
    parse_float=_finite_float,
    parse_constant=_refuse_constant,
)


def _check_text(value: Any) -> None:
    """Refuse strings with lone surrogates, which orjson (and so a store) refuses.

    Only called for documents whose JSON holds a surrogate escape.
    """
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        raise ValueError(
            "a string holds a lone surrogate escape (\\ud800 to \\udfff), which is "
            "not text; fix the escape"
        ) from None


class _TextStream:
    """JSON values one after another in a file, read a chunk at a time.

    ``_buffer[_pos:]`` is text not parsed yet. Lines are counted as parsing
    moves on: ``_line_base`` newlines come before ``_buffer[0]``, which is
    ``_column_base`` characters into its line, and ``_buffer[:_mark]`` holds
    ``_mark_newlines`` more.
    """

    def __init__(
        self,
        file: IO[bytes],
        name: str,
        head: bytes,
        blank_lines: int,
        counter: _ByteCounter,
    ) -> None:
        self._file = file
        self._name = name
        self._counter = counter
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._line_base = blank_lines
        self._column_base = 0
        self._mark = 0
        self._mark_newlines = 0
        self._value: Any = None
        self._append(head, final=False)

    def documents(self, values: Iterator[int]) -> Iterator[tuple[int, Document]]:
        """Decode each value, given by where it starts, as a located document."""
        for start in values:
            value = self._value
            try:
                document = decode_document(value)
            except (ExtendedJSONError, RecursionError) as exc:
                raise self._error(_reason(exc), start, at_column=False) from None
            yield self._line_at(start), document
        self._counter.flush()

    def array_values(self) -> Iterator[int]:
        """Parse the elements of one JSON array, then expect only white space."""
        self._peek()
        self._pos += 1
        if self._peek() == "]":
            self._pos += 1
        else:
            yield from self._elements()
        if self._peek():
            raise self._error("unexpected text after the closing ]", self._pos)

    def values(self) -> Iterator[int]:
        """Parse values separated by white space only, up to the end of the file."""
        while self._peek():
            yield self._read_value()

    def _elements(self) -> Iterator[int]:
        """The values of a non-empty array, up to and including its ``]``."""
        while True:
            yield self._read_value()
            following = self._peek()
            self._pos += 1
            if following == "]":
                return
            if following != ",":
                reason = "expected , or ] after a document" if following else ""
                raise self._error(reason or "the array has no closing ]", self._pos - 1)

    def _read_value(self) -> int:
        """Parse the value at ``_pos`` into ``_value``; return where it starts.

        While the value is cut off by the end of the buffer, read more text.
        """
        while True:
            self._peek()
            try:
                value, end = _DECODER.raw_decode(self._buffer, self._pos)
                if _SURROGATE_ESCAPE.search(self._buffer, self._pos, end):
                    _check_text(value)
            except json.JSONDecodeError as exc:
                pending = len(self._buffer) - exc.pos
                if self._eof or pending > _MAX_PENDING:
                    raise self._error(f"invalid JSON ({exc.msg})", exc.pos) from None
                self._fill()
                continue
            except (ValueError, RecursionError) as exc:
                raise self._error(_reason(exc), self._pos, at_column=False) from None
            if end < len(self._buffer) or self._eof:
                break
            self._fill()
        start, self._pos, self._value = self._pos, end, value
        return start

    def _peek(self) -> str:
        """Skip white space; the next character, or "" at the end of the file."""
        while True:
            match = _SPACE.match(self._buffer, self._pos)
            self._pos = match.end() if match else self._pos
            if self._pos < len(self._buffer) or self._eof:
                return self._buffer[self._pos : self._pos + 1]
            self._fill()

    def _fill(self) -> None:
        """Read the next chunk, or note the end of the file."""
        chunk = self._file.read(_CHUNK_SIZE)
        self._counter.add(len(chunk))
        self._compact()
        self._eof = not chunk
        self._append(chunk, final=self._eof)

    def _append(self, data: bytes, final: bool) -> None:
        try:
            self._buffer += self._decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            reason = f"the file is not UTF-8 ({exc.reason})"
            raise self._error(reason, len(self._buffer)) from None

    def _compact(self) -> None:
        """Drop parsed text once there is more of it than a chunk."""
        if self._pos < _CHUNK_SIZE:
            return
        self._line_base = self._line_at(self._pos) - 1
        self._column_base = self._column_at(self._pos) - 1
        self._buffer = self._buffer[self._pos :]
        self._pos = self._mark = self._mark_newlines = 0

    def _line_at(self, index: int) -> int:
        """The line of ``_buffer[index]``, counting on from the last one asked."""
        if index < self._mark:
            self._mark = self._mark_newlines = 0
        self._mark_newlines += self._buffer.count("\n", self._mark, index)
        self._mark = index
        return self._line_base + self._mark_newlines + 1

    def _column_at(self, index: int) -> int:
        newline = self._buffer.rfind("\n", 0, index)
        if newline >= 0:
            return index - newline
        return self._column_base + index + 1

    def _error(
        self, reason: str, index: int, at_column: bool = True
    ) -> InvalidDocument:
        """The error at ``_buffer[index]``; a document's content errors name
        only the line where the document starts, as in JSON lines."""
        column = self._column_at(index) if at_column else None
        return _located(self._name, self._line_at(index), column, reason)


class _LineLog:
    """The lines of the documents most recently handed to the store.

    A store names a document it refuses by its index in the stream, and that
    document is always in the batch being written, so remembering one batch
    of lines is enough to name its line.
    """

    def __init__(self, batch_size: int) -> None:
        self._lines: deque[int] = deque(maxlen=max(1, batch_size) + 1)
        self._count = 0

    def track(self, located: Iterator[tuple[int, Document]]) -> Iterator[Document]:
        for line, document in located:
            self._lines.append(line)
            self._count += 1
            yield document

    def line_of(self, index: int) -> int | None:
        back = self._count - index
        return self._lines[-back] if 0 < back <= len(self._lines) else None


def _with_line(exc: DatasourceError, name: str, log: _LineLog) -> DatasourceError:
    """The store's error about one document, rewritten to name its line."""
    match = _INDEX_POINTER.match(exc.errors[0].path) if exc.errors else None
    line = log.line_of(int(match.group(1))) if match else None
    if line is None:
        return exc
    reason = exc.errors[0].message.rstrip(".")
    located = _located(name, line, None, reason)
    return type(exc)(located.detail, errors=exc.errors, extra=located.extra)


def _pages(store: Store, collection: str) -> Iterator[list[StoredDocument]]:
    """The documents of a collection in id order, a page at a time.

    Pages follow the last id seen (keyset paging) rather than an offset, so
    each page costs the same however deep into the collection it is.
    """
    after: DocumentId | None = None
    while True:
        query = Query(filter=_after(after), limit=MAX_LIMIT)
        page = store.find(collection, query).documents
        if page:
            yield page
        if len(page) < MAX_LIMIT:
            return
        after = page[-1].id


def _after(last: DocumentId | None) -> Filter | None:
    """Ids after ``last`` in the store order: numbers, then strings."""
    if last is None:
        return None
    if isinstance(last, int):
        return Or((Comparison(("id",), "gt", last), Comparison(("id",), "gte", "")))
    return Comparison(("id",), "gt", last)
