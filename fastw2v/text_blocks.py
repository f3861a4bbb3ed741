"""What a text source is and what it yields: a ``TextSource`` (a corpus's text, readable twice, with a fingerprint
for the cache key) gives ``TextBlock``s of UTF-8 documents or ``TokenBlock``s of documents already tokenized; and
how Python strings and Arrow string columns are cut into blocks of about ``BLOCK_BYTES`` (a longer document in
pieces, at spaces)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .errors import UserError, setting

BLOCK_BYTES = 1 << 22  # text is tokenized 4 MiB at a time: the tokenizer's scratch memory is ~20 B per byte of it


class CorpusTypeError(UserError, TypeError):
    """A corpus of the wrong kind (a generator where it is read twice, a sentence that is not a list of tokens, a
    corpus_file that is not a file): a TypeError too, as gensim's."""


@dataclass
class TextBlock:
    """Documents as UTF-8 bytes: document d is data[starts[d]:ends[d]]. ``continues``: the last document goes
    on in the next block (a line longer than a block, cut at a space)."""

    data: np.ndarray  # uint8
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    continues: bool = False
    file: str | None = None  # the file read, for messages
    compression: str = ""


@dataclass
class TokenBlock:
    """Documents already tokenized: token t is data[starts[t]:ends[t]] (UTF-8), document d has doc_tokens[d]
    tokens. A source of token lists yields these; the tokenizer setting does not apply."""

    data: np.ndarray  # uint8
    starts: np.ndarray  # int64[T]
    ends: np.ndarray  # int64[T]
    doc_tokens: np.ndarray  # int64[D]
    continues: bool = False
    file: str | None = None


@dataclass
class TextSource:
    """A corpus's text, readable twice (counting, then encoding). Built-in sources yield ``TextBlock``s of bytes;
    a source written by hand may yield batches (lists) of documents as ``str`` instead."""

    description: str  # for messages and the summary, as the user named the text
    fingerprint: str  # changes when the text may have changed; local paths in it are resolved (the cache key)
    batches: Callable[[], Iterator[list[str]]] | None = None  # a fresh iterator over batches of documents
    files: tuple[str, ...] = ()  # the local files read, when the source is files
    blocks: Callable[[], Iterator[TextBlock]] | None = None  # a fresh iterator over blocks of bytes
    encoding_errors: str = "strict"  # bytes that are not UTF-8: strict, replace or skip
    costly_to_reread: bool = False  # a Python iterable: pass 1 spills word indices, pass 2 reads them, not the text
    location: str | None = None  # local files or a folder: their resolved path (the cache's list shows it)
    text_column: str | None = None  # the column the text is read from, when the source has columns
    prepare: Callable[[], None] | None = None  # opens and checks the text before a read (not on a cache hit)

    def text_blocks(self) -> Iterator[TextBlock | TokenBlock]:
        """A fresh pass over the text, block by block."""
        if self.blocks is not None:
            yield from self.blocks()
            return
        for batch in self.batches():
            yield from str_blocks(batch)


def str_blocks(texts: list) -> Iterator[TextBlock]:
    """Blocks of Python strings (None is an empty document)."""
    import pyarrow as pa

    try:
        array = pa.array([t or "" for t in texts], type=pa.large_string())
    except (pa.ArrowInvalid, UnicodeEncodeError) as e:
        raise UserError(
            f"a document cannot be encoded as UTF-8 ({str(e).splitlines()[0][:120]}): "
            "clean the text (lone surrogates?) before passing it"
        ) from None
    yield from arrow_blocks(array)


def arrow_blocks(array) -> Iterator[TextBlock]:
    """Blocks of an Arrow string array (zero copy), cut to about BLOCK_BYTES; a longer document is cut at spaces."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.null_count:
        array = pc.fill_null(array, "")
    if not is_text_type(array.type):
        array = array.cast(pa.large_string())
    if len(array):
        data, offsets = arrow_buffers(array)
        yield from split_blocks(data, offsets[:-1], offsets[1:])


def arrow_buffers(array) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, int64 offsets[n + 1]) of an Arrow string or large_string array, without copying the bytes."""
    import pyarrow as pa

    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32 if pa.types.is_string(array.type) else np.int64)
    offsets = offsets[array.offset : array.offset + len(array) + 1].astype(np.int64)
    data_buf = array.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    return data, offsets


def is_text_type(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def column_blocks(table, text_column: str, where: str) -> Iterator[TextBlock]:
    """The blocks of one Arrow batch's text column; a batch of missing values has none, other values are an error."""
    column = table.column(text_column).combine_chunks()
    if not is_text_type(column.type):
        if column.null_count == len(column):
            return
        bad = next(v for v in column.to_pylist() if v is not None)
        raise UserError(
            f"column {text_column!r} of {where} holds {type(bad).__name__} values such as {bad!r}, "
            f"not text: choose a text column with {setting('text_column')}"
        )
    yield from arrow_blocks(column)


def split_blocks(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_bytes: int | None = None, file: str | None = None
) -> Iterator[TextBlock]:
    """Blocks of at most about ``max_bytes`` (``BLOCK_BYTES`` by default) of text; a document longer than that is
    cut at spaces into pieces (``continues``), never held whole by the tokenizer."""
    max_bytes = max_bytes or BLOCK_BYTES
    d, n = 0, starts.shape[0]
    while d < n:
        first = int(starts[d])
        if ends[d] - first <= max_bytes:  # the documents that end within max_bytes
            last = max(int(np.searchsorted(ends, first + max_bytes, side="right")), d + 1)
            yield TextBlock(data, starts[d:last], ends[d:last], file=file)
            d = last
            continue
        a, b = first, int(ends[d])  # one long document, in pieces
        while b - a > max_bytes:
            cut = cut_point(data, a, a + max_bytes)
            yield TextBlock(data, np.array([a], np.int64), np.array([cut], np.int64), continues=True, file=file)
            a = cut
        yield TextBlock(data, np.array([a], np.int64), np.array([b], np.int64), file=file)
        d += 1


def cut_point(data: np.ndarray, a: int, b: int) -> int:
    """Where to cut data[a:b] of a long line: after its last ASCII space or tab that no tag holds (a '<' up to the
    next '>', perhaps past b: the simple tokenizer then sees each tag whole, as in the whole line), else after its
    last space or tab, else before a UTF-8 lead byte (a token is then split: only in a line without a space in a
    whole block)."""
    window = data[a:b]
    spaces = np.flatnonzero((window == 32) | (window == 9))
    if spaces.size:
        outside = _last_space_outside_tags(window, spaces)
        return a + int(outside if outside >= 0 else spaces[-1]) + 1
    cut = b
    while cut > a + 1 and 0x80 <= data[cut] < 0xC0:
        cut -= 1
    return cut


def _last_space_outside_tags(window: np.ndarray, spaces: np.ndarray) -> int:
    """The last of ``spaces`` (positions in ``window``) outside every tag, or -1. Between two '>' the spaces before
    the first '<' are outside; those after it are in the tag that the second '>' closes (or that is still open)."""
    bounds = np.concatenate([[-1], np.flatnonzero(window == 62), [window.shape[0]]])
    for k in range(bounds.shape[0] - 2, -1, -1):
        start, stop = int(bounds[k]) + 1, int(bounds[k + 1])
        opens = np.flatnonzero(window[start:stop] == 60)
        limit = start + int(opens[0]) if opens.size else stop
        i = int(np.searchsorted(spaces, limit)) - 1
        if i >= 0 and spaces[i] >= start:
            return int(spaces[i])
    return -1
