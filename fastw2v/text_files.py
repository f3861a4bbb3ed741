"""Local files as text sources: .txt (one document per line, read in blocks of whole lines), .jsonl/.json, .csv and
.parquet (a text column, read through ``datasets``' builders as a stream); .txt, .jsonl and .csv compressed or not
(.gz, .bz2, .xz, .zst). A source's fingerprint holds the files' resolved paths, sizes and times, so two spellings
of one file are one cache entry."""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import json
import lzma
import os
from collections.abc import Iterator

import numba
import numpy as np

from . import text_blocks
from .config import ENCODING_ERRORS
from .errors import UserError, setting
from .text_blocks import CorpusTypeError, TextBlock, TextSource, column_blocks, cut_point

FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}  # datasets' builders

COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst")  # .txt, .jsonl and .csv files may be compressed, read as streams


def file_kind(path: str) -> tuple[str, str]:
    """(kind, compression) of a file name: 'wiki.txt.gz' -> ('.txt', '.gz')."""
    root, ext = os.path.splitext(path.lower())
    if ext in COMPRESSIONS:
        return os.path.splitext(root)[1], ext
    return ext, ""


def open_binary(path: str, compression: str):
    """A binary stream of a file, decompressed as its name says."""
    if compression == ".zst":
        try:
            import zstandard
        except ImportError:
            raise UserError(
                f"reading {path!r} needs the zstandard package: pip install zstandard, or decompress it first"
            ) from None
        return io.BufferedReader(zstandard.open(path, "rb"))
    return {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[compression](path, "rb")


def locate_bad_utf8(path: str, compression: str) -> tuple[int, int, str]:
    """(line, byte offset, reason) of the first byte of ``path`` that is not UTF-8 (offsets in the
    uncompressed text): read again line by line, only after a strict read failed."""
    with open_binary(path, compression) as fh:
        offset = 0
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                return number, offset + e.start, e.reason
            offset += len(raw)
    return 0, offset, "unknown"


def check_encoding_errors(encoding_errors: str) -> None:
    if encoding_errors not in ENCODING_ERRORS:
        raise UserError(f"unknown encoding_errors {encoding_errors!r}: choose one of {', '.join(ENCODING_ERRORS)}")


def _matched_files(pattern: str) -> list[str]:
    """The files a path or glob names, sorted; a folder, a missing file or no match is a UserError."""
    if os.path.isdir(pattern):
        raise UserError(
            f"{pattern!r} is a folder: pass the files in it, e.g. {os.path.join(pattern, '*.txt')!r} (quoted on a "
            "command line)"
        )
    files = sorted(glob.glob(os.path.expanduser(pattern))) if glob.has_magic(pattern) else [pattern]
    if not files or not all(os.path.isfile(f) for f in files):
        missing = pattern if not files else next(f for f in files if not os.path.isfile(f))
        raise UserError(f"no such file {missing!r}: check the path given as {setting('data')}")
    for f in files:
        if not os.access(f, os.R_OK):
            raise UserError(f"cannot read {f!r} (permission denied): fix its permissions or copy it")
    return files


def _kind_of(files: list[str], pattern: str) -> str:
    """The one kind (.txt, .jsonl, ...) of ``files``; several kinds, an unknown one or a compressed .parquet is a
    UserError."""
    exts = {file_kind(f)[0] for f in files}
    if len(exts) > 1:
        raise UserError(
            f"{pattern!r} matches files of several kinds ({', '.join(sorted(exts))}): give one kind at a time"
        )
    ext = exts.pop()
    if ext != ".txt" and ext not in FILE_BUILDERS:
        raise UserError(
            f"cannot read {ext or 'extension-less'} files: the text must be in .txt, .jsonl, .csv or .parquet "
            f"files (the first three also compressed: {', '.join(COMPRESSIONS)})"
        )
    if ext == ".parquet" and any(file_kind(f)[1] for f in files):
        raise UserError("a .parquet file compresses its own columns: pass it without an outer .gz/.bz2/.xz/.zst")
    return ext


def from_files(pattern: str, text_column: str = "text", encoding_errors: str = "strict") -> TextSource:
    """Local files: .txt (one document per line), .jsonl/.json, .csv or .parquet (a text column); .txt, .jsonl
    and .csv may be compressed (.gz, .bz2, .xz, .zst), read as a stream. A byte that is not UTF-8 in a .txt
    file is an error naming its file, line and offset (``encoding_errors="strict"``), or becomes U+FFFD
    (``"replace"``) or is dropped (``"skip"``), with a note of how many there were."""
    check_encoding_errors(encoding_errors)
    pattern = os.fspath(pattern)
    files = _matched_files(pattern)
    ext = _kind_of(files, pattern)
    stats = [(os.path.realpath(f), os.path.getsize(f), os.path.getmtime(f)) for f in files]  # a link: its target
    fingerprint = json.dumps([stats, text_column] + ([encoding_errors] if encoding_errors != "strict" else []))
    description = files[0] if len(files) == 1 else f"{pattern} ({len(files)} files)"
    location = stats[0][0] if len(files) == 1 else f"{os.path.realpath(pattern)} ({len(files)} files)"
    if ext == ".txt":
        if text_column != "text":
            raise UserError(
                f"a .txt file has no columns (one document per line): drop {setting('text_column', text_column)}"
            )
        return lines_source(files, description, fingerprint, encoding_errors, location)

    def blocks():
        import datasets

        try:
            ds = datasets.load_dataset(FILE_BUILDERS[ext], data_files=files, split="train", streaming=True)
            for table in ds.with_format("arrow").iter(batch_size=1000):
                if text_column not in table.column_names:
                    raise UserError(
                        f"{description} has no column {text_column!r}: choose the column with "
                        f"{setting('text_column')}: one of {', '.join(table.column_names)}"
                    )
                yield from column_blocks(table, text_column, description)
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - arrow/json/csv parsers raise many types
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UserError(f"cannot read {description} as {ext[1:]} ({reason[:160]}): check the file") from None

    return TextSource(
        description, fingerprint, files=tuple(files), blocks=blocks, location=location, text_column=text_column
    )


def lines_source(
    files: list[str], description: str, fingerprint: str, encoding_errors: str, location: str | None = None
) -> TextSource:
    """Text files read line by line, one document a line, each decompressed as its name says."""

    def blocks():
        for f in files:
            compression = file_kind(f)[1]
            try:
                with open_binary(f, compression) as fh:
                    yield from line_blocks(fh, f, compression)
            except (OSError, EOFError, lzma.LZMAError) as e:  # a damaged or cut compressed file
                raise UserError(f"cannot read {f!r} ({e}): check the file") from None

    return TextSource(
        description, fingerprint, files=tuple(files), blocks=blocks, encoding_errors=encoding_errors, location=location
    )


def from_text_file(path, encoding_errors: str = "strict") -> TextSource:
    """One text file of documents, one a line, whatever its name (gensim's ``corpus_file``: ``corpus.tst``,
    ``text8``); compressed when its name ends in .gz, .bz2, .xz or .zst. No glob: the name is taken as it is."""
    check_encoding_errors(encoding_errors)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise CorpusTypeError(
            f"corpus_file must be a path to a text file, got {type(path).__name__}: pass e.g. "
            "corpus_file='corpus.txt', or the sentences as corpus_iterable"
        )
    path = os.fspath(path)
    if os.path.isdir(path):
        raise CorpusTypeError(
            f"corpus_file {path!r} is a folder: pass one text file (space-separated tokens, one sentence a line)"
        )
    if not os.path.isfile(path):
        raise CorpusTypeError(f"no such file {path!r}: check the path given as corpus_file")
    if not os.access(path, os.R_OK):
        raise UserError(f"cannot read {path!r} (permission denied): fix its permissions or copy it")
    stat = (os.path.realpath(path), os.path.getsize(path), os.path.getmtime(path))
    fingerprint = json.dumps(["lines", stat] + ([encoding_errors] if encoding_errors != "strict" else []))
    return lines_source([path], path, fingerprint, encoding_errors, stat[0])


@numba.njit(cache=True)
def line_bounds(buf, n, final):
    """Documents of a .txt block buf[:n], one per line as Python's text files read them (a line ends at
    '\\n', '\\r' or '\\r\\n'): (starts, ends without the line end, bytes used). Without ``final`` the bytes after
    the last line end are left for the next block, and so is a '\\r' at the very end (a '\\n' may follow)."""
    used = n
    if not final:
        used = 0
        for i in range(n - 1, -1, -1):
            if buf[i] == 10 or (buf[i] == 13 and i + 1 < n):
                used = i + 1
                break
    count = 0
    for i in range(used):
        if buf[i] == 10 or (buf[i] == 13 and (i + 1 >= used or buf[i + 1] != 10)):
            count += 1
    s = 0
    if used > 0 and buf[used - 1] != 10 and buf[used - 1] != 13:
        count += 1  # the last line of the text, without a line end
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    d, i = 0, 0
    while i < used:
        c = buf[i]
        if c == 10 or c == 13:
            starts[d], ends[d] = s, i
            d += 1
            if c == 13 and i + 1 < used and buf[i + 1] == 10:
                i += 1
            s = i + 1
        i += 1
    if s < used:
        starts[d], ends[d] = s, used
    return starts, ends, used


def line_blocks(fh, file: str, compression: str, block_bytes: int | None = None) -> Iterator[TextBlock]:
    """Blocks of whole lines of a binary stream (``BLOCK_BYTES`` by default), read into one reused buffer (no
    allocation per block); a line longer than the buffer is cut at a space (``continues``). Each block is valid until
    the next is asked for."""
    block_bytes = block_bytes or text_blocks.BLOCK_BYTES
    buf = bytearray(block_bytes)
    view = memoryview(buf)
    filled, eof = 0, False
    while True:
        while filled < block_bytes and not eof:
            n = fh.readinto(view[filled:])
            eof = not n
            filled += n or 0
        if filled == 0:
            return
        array = np.frombuffer(buf, dtype=np.uint8, count=filled)
        starts, ends, used = line_bounds(array, filled, eof)
        if used == 0:  # the buffer is full and holds no line end: part of a long line
            used = cut_point(array, 0, filled - 1)
            yield TextBlock(array, np.zeros(1, np.int64), np.array([used], np.int64), True, file, compression)
        elif starts.shape[0]:
            yield TextBlock(array, starts, ends, False, file, compression)
        del array
        if eof and used >= filled:
            return
        buf[: filled - used] = buf[used:filled]  # the rest of the last line moves to the front
        filled -= used
