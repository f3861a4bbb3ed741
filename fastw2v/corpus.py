"""Text sources -> tokens -> Vocab -> token ids on disk (int32 memmap) + piece boundaries (int64).

Two streaming passes, memory O(vocabulary + chunk), never O(corpus):
  1. tokenize every document once, give each distinct word a provisional id and write those ids to
     ``raw.int32`` chunk by chunk; count them (np.bincount per chunk);
  2. build the Vocab from the counts, then map ``raw.int32`` to final ids chunk by chunk, dropping
     out-of-vocabulary tokens before any windowing (as word2vec.c does), into ``ids.int32``.
Pass 2 reads integers, not text, so text is tokenized once. The result is cached under a key of the
source, the tokenizer and the vocabulary settings, so a second run skips both passes.
"""

from __future__ import annotations

import bz2
import contextlib
import glob
import gzip
import hashlib
import io
import json
import logging
import lzma
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from .errors import UserError
from . import scan
from .progress import Progress, compiling
from .vocab import Vocab, frequency_order

CACHE_FORMAT = 1  # bump when the cached files change meaning
DAMAGED_FIX = "delete the folder and encode the text again"  # the end of every damaged-folder message
CRC_BLOCK = 1 << 22  # ids per checksum block of ids.int32 (16 MiB)
MAX_COUNTED_WORDS = 20_000_000  # distinct words held while counting (word2vec.c prunes at 21M)
DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "fastw2v")  # expanded where used: help texts show it as written

# ---------------------------------------------------------------------------------------------------
# Tokenizers

_TAG = re.compile(r"<[^>]*>")  # IMDB reviews carry <br /> tags
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # runs of letters/digits, inner apostrophes kept: don't, o'brien


def simple_tokenize(text: str) -> list[str]:
    return _WORD.findall(_TAG.sub(" ", text.lower()))


def whitespace_tokenize(text: str) -> list[str]:
    """The tutorial's tokenizer: ``[w.lower() for w in f.split()]``."""
    return text.lower().split()


def split_tokenize(text: str) -> list[str]:
    """The text's own tokens, case kept: ``text.split()`` (gensim's LineSentence and corpus_file)."""
    return text.split()


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"simple": simple_tokenize, "whitespace": whitespace_tokenize,
                                                     "split": split_tokenize}


# ---------------------------------------------------------------------------------------------------
# Text sources: anything that yields batches of raw documents and has a fingerprint for the cache key.


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

    description: str  # for messages and the summary
    fingerprint: str  # changes when the text may have changed
    batches: Callable[[], Iterator[list[str]]] | None = None  # a fresh iterator over batches of documents
    files: tuple[str, ...] = ()  # the local files read, when the source is files
    blocks: Callable[[], Iterator[TextBlock]] | None = None  # a fresh iterator over blocks of bytes
    encoding_errors: str = "strict"  # bytes that are not UTF-8: strict, replace or skip
    costly_to_reread: bool = False  # a Python iterable: pass 1 spills word indices, pass 2 reads them, not the text

    def text_blocks(self) -> Iterator[TextBlock]:
        if self.blocks is not None:
            yield from self.blocks()
            return
        for batch in self.batches():
            yield from _str_blocks(batch)


BLOCK_BYTES = 1 << 22  # text is tokenized 4 MiB at a time: the tokenizer's scratch memory is ~20 B per byte of it


def _str_blocks(texts: list) -> Iterator[TextBlock]:
    import pyarrow as pa

    try:
        array = pa.array([t or "" for t in texts], type=pa.large_string())
    except (pa.ArrowInvalid, UnicodeEncodeError) as e:
        raise UserError(f"a document cannot be encoded as UTF-8 ({str(e).splitlines()[0][:120]}): "
                        "clean the text (lone surrogates?) before passing it") from None
    yield from _arrow_blocks(array)


def _arrow_blocks(array) -> Iterator[TextBlock]:
    """Blocks of an Arrow string array (zero copy), cut to about BLOCK_BYTES; a longer document is cut at spaces."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.null_count:
        array = pc.fill_null(array, "")
    if not _is_text(array.type):
        array = array.cast(pa.large_string())
    if len(array):
        data, offsets = _arrow_buffers(array)
        yield from split_blocks(data, offsets[:-1], offsets[1:])


def _arrow_buffers(array) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, int64 offsets[n + 1]) of an Arrow string or large_string array, without copying the bytes."""
    import pyarrow as pa

    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32 if pa.types.is_string(array.type) else np.int64)
    offsets = offsets[array.offset:array.offset + len(array) + 1].astype(np.int64)
    data_buf = array.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    return data, offsets


def split_blocks(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_bytes: int = BLOCK_BYTES,
                 file: str | None = None) -> Iterator[TextBlock]:
    """Blocks of at most about ``max_bytes`` of text; a document longer than that is cut at spaces into pieces
    (``continues``), never held whole by the tokenizer."""
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
            cut = _cut_point(data, a, a + max_bytes)
            yield TextBlock(data, np.array([a], np.int64), np.array([cut], np.int64), continues=True, file=file)
            a = cut
        yield TextBlock(data, np.array([a], np.int64), np.array([b], np.int64), file=file)
        d += 1


def _cut_point(data: np.ndarray, a: int, b: int) -> int:
    """Where to cut data[a:b] of a long line: after its last ASCII space or tab, else before a UTF-8 lead byte
    (a token is then split: only in a line without a space in a whole block)."""
    window = data[a:b]
    spaces = np.flatnonzero((window == 32) | (window == 9))
    if spaces.size:
        return a + int(spaces[-1]) + 1
    cut = b
    while cut > a + 1 and 0x80 <= data[cut] < 0xC0:
        cut -= 1
    return cut


def from_texts(texts: Iterable[str], name: str = "texts") -> TextSource:
    texts = list(texts)
    digest = hashlib.sha1("\x00".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
    return TextSource(f"{name} ({len(texts)} documents)", digest, blocks=lambda: _str_blocks(texts))


def from_token_lists(sentences, name: str = "sentences") -> TextSource:
    """An iterable of token lists (gensim's ``sentences``), used as given: no lowercasing, no splitting. It is
    read twice (counting, then encoding), so it must be restartable: a list, or an object whose ``__iter__``
    starts over (gensim's LineSentence); a generator is an error."""
    if isinstance(sentences, (str, bytes)) or not hasattr(sentences, "__iter__"):
        raise UserError(f"sentences must be an iterable of token lists, got {type(sentences).__name__}: pass e.g. "
                        "[['first', 'sentence'], ['second', 'one']]")
    if iter(sentences) is sentences:
        raise UserError(f"sentences is a one-shot iterator ({type(sentences).__name__}): it is read more than once "
                        "(counting, then each training call), so pass a list, or an iterable whose __iter__ starts "
                        "over, e.g. gensim.models.word2vec.LineSentence(path), or corpus_file=path")

    def blocks():
        batch, n = [], 0
        for sentence in sentences:
            if isinstance(sentence, str):
                raise UserError(f"sentences must be lists of tokens, and one is a str ({sentence[:40]!r}...): pass "
                                "each as a list of words, e.g. text.split()")
            batch.append(sentence)
            n += len(sentence)
            if n >= 1 << 20:
                yield _token_block(batch)
                batch, n = [], 0
        if batch:
            yield _token_block(batch)

    return TextSource(name, "", blocks=blocks, costly_to_reread=True)


def _token_block(batch: list) -> TokenBlock:
    import pyarrow as pa

    try:
        lists = pa.array(batch, type=pa.list_(pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, UnicodeEncodeError) as e:
        raise UserError(f"sentences must be lists of str tokens ({str(e).splitlines()[0][:120]}): convert the "
                        "tokens to str") from None
    flat = lists.flatten()
    if lists.null_count or flat.null_count:
        raise UserError("a sentence or a token is None: pass lists of str tokens")
    list_offsets = np.frombuffer(lists.buffers()[1], dtype=np.int32)[lists.offset:lists.offset + len(lists) + 1]
    data, offsets = _arrow_buffers(flat)
    return TokenBlock(data, offsets[:-1], offsets[1:], np.diff(list_offsets).astype(np.int64))


def from_dataset(name_or_path: str, text_column: str = "text", splits: list[str] | None = None,
                 streaming: bool = False, config: str | None = None) -> TextSource:
    """A Hugging Face dataset: a hub name (``stanfordnlp/imdb``) or a local folder laid out like one.

    All splits are concatenated in the dataset's order unless ``splits`` names some. With ``streaming`` the
    text is read as it downloads, twice (counting, then encoding), and never stored whole on disk; the cache
    then keys on the dataset's name, splits and published sizes. ``config``: the dataset's configuration, for
    those that have several (``wikimedia/wikipedia``: ``20231101.en``).
    """
    import datasets

    name_or_path = os.fspath(name_or_path)

    local = os.path.exists(name_or_path)
    if os.path.isfile(name_or_path):
        raise UserError(f"{name_or_path!r} is a file, not a dataset folder: pass it with --data")
    if not local and name_or_path.startswith((os.sep, ".", "~")):
        raise UserError(f"no such dataset folder {name_or_path!r}: check the path given to --dataset")
    hub_log = logging.getLogger("huggingface_hub")
    level = hub_log.level
    hub_log.setLevel(logging.ERROR)  # its retry warnings would come before our one line
    try:
        dd = datasets.load_dataset(name_or_path, config, streaming=streaming)
    except Exception as e:  # noqa: BLE001 - the hub raises many types; all mean "cannot load"
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        if local:
            raise UserError(f"cannot read dataset folder {name_or_path!r} ({reason}): "
                            "check it is laid out like a hub dataset, or pass --data FILES") from None
        if "config name is missing" in reason.lower() or "available configs" in reason.lower():
            raise UserError(f"dataset {name_or_path!r} has several configurations ({reason[:200]}): pick one with "
                            "--dataset-config NAME") from None
        raise UserError(f"cannot load dataset {name_or_path!r} from the Hugging Face hub ({reason[:160]}): "
                        "without network pass --dataset PATH to a local copy laid out like the hub's "
                        "or --data FILE_OR_GLOB") from None
    finally:
        hub_log.setLevel(level)
    if not isinstance(dd, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        dd = {"train": dd}
    names = list(dd) if splits is None else splits
    for s in names:
        if s not in dd:
            raise UserError(f"dataset {name_or_path!r} has no split {s!r}: choose from {', '.join(dd)}")
    for s in names:
        if dd[s].column_names is not None and text_column not in dd[s].column_names:
            raise UserError(f"split {s!r} of {name_or_path!r} has no column {text_column!r}: "
                            f"pass --text-column with one of {', '.join(dd[s].column_names)}")
    for s in (names if not streaming else []):  # a stream may not know its features before it is read
        feature = dd[s].features[text_column]
        if getattr(feature, "dtype", None) not in ("string", "large_string"):
            raise UserError(f"column {text_column!r} of split {s!r} holds {getattr(feature, 'dtype', feature)}, not "
                            f"text: pass --text-column with a text column ({_text_columns(dd[s].features)})")
    parts = [dd[s].select_columns([text_column]) for s in names]
    if streaming:
        info = parts[0].info
        published = {k: [v.num_bytes, v.num_examples] for k, v in (info.splits or {}).items()}
        fingerprint = json.dumps([name_or_path, config, names, text_column, "streaming", str(info.version), published])
    else:
        fingerprint = json.dumps([name_or_path, names, text_column, [p._fingerprint for p in parts]])

    def blocks():
        for part in parts:
            for table in part.with_format("arrow").iter(batch_size=1000):
                yield from _column_blocks(table, text_column, repr(name_or_path))

    return TextSource(f"{name_or_path} [{', '.join(names)}]", fingerprint, blocks=blocks)


def _text_columns(features) -> str:
    text = [name for name, f in features.items() if getattr(f, "dtype", None) in ("string", "large_string")]
    return "text columns: " + ", ".join(text) if text else "it has none"


_FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst")  # .txt, .jsonl and .csv files may be compressed, read as streams
ENCODING_ERRORS = ("strict", "replace", "skip")


def _kind(path: str) -> tuple[str, str]:
    """(kind, compression) of a file name: 'wiki.txt.gz' -> ('.txt', '.gz')."""
    root, ext = os.path.splitext(path.lower())
    if ext in COMPRESSIONS:
        return os.path.splitext(root)[1], ext
    return ext, ""


def _open_binary(path: str, compression: str):
    """A binary stream of a file, decompressed as its name says."""
    if compression == ".zst":
        try:
            import zstandard
        except ImportError:
            raise UserError(f"reading {path!r} needs the zstandard package: pip install zstandard, or decompress "
                            "it first") from None
        return io.BufferedReader(zstandard.open(path, "rb"))
    return {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[compression](path, "rb")


def _locate_bad_utf8(path: str, compression: str) -> tuple[int, int, str]:
    """(line, byte offset, reason) of the first byte of ``path`` that is not UTF-8 (offsets in the
    uncompressed text): read again line by line, only after a strict read failed."""
    with _open_binary(path, compression) as fh:
        offset = 0
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                return number, offset + e.start, e.reason
            offset += len(raw)
    return 0, offset, "unknown"


def from_files(pattern: str, text_column: str = "text", encoding_errors: str = "strict") -> TextSource:
    """Local files: .txt (one document per line), .jsonl/.json, .csv or .parquet (a text column); .txt, .jsonl
    and .csv may be compressed (.gz, .bz2, .xz, .zst), read as a stream. A byte that is not UTF-8 in a .txt
    file is an error naming its file, line and offset (``encoding_errors="strict"``), or becomes U+FFFD
    (``"replace"``) or is dropped (``"skip"``), with a note of how many there were."""
    if encoding_errors not in ENCODING_ERRORS:
        raise UserError(f"unknown encoding_errors {encoding_errors!r}: choose one of {', '.join(ENCODING_ERRORS)}")
    pattern = os.fspath(pattern)
    if os.path.isdir(pattern):
        raise UserError(f"{pattern!r} is a folder: pass the files in it, e.g. --data '{os.path.join(pattern, '*.txt')}'")
    files = sorted(glob.glob(os.path.expanduser(pattern))) if glob.has_magic(pattern) else [pattern]
    if not files or not all(os.path.isfile(f) for f in files):
        missing = pattern if not files else next(f for f in files if not os.path.isfile(f))
        raise UserError(f"no such file {missing!r}: check the path given to --data")
    exts = {_kind(f)[0] for f in files}
    if len(exts) > 1:
        raise UserError(f"--data matched files of several kinds ({', '.join(sorted(exts))}): give one kind at a time")
    ext = exts.pop()
    if ext != ".txt" and ext not in _FILE_BUILDERS:
        raise UserError(f"cannot read {ext or 'extension-less'} files: --data takes .txt, .jsonl, .csv or .parquet "
                        f"(the first three also compressed: {', '.join(COMPRESSIONS)})")
    if ext == ".parquet" and any(_kind(f)[1] for f in files):
        raise UserError("a .parquet file compresses its own columns: pass it without an outer .gz/.bz2/.xz/.zst")
    for f in files:
        if not os.access(f, os.R_OK):
            raise UserError(f"cannot read {f!r} (permission denied): fix its permissions or copy it")
    stats = [(os.path.realpath(f), os.path.getsize(f), os.path.getmtime(f)) for f in files]  # a link: its target
    fingerprint = json.dumps([stats, text_column] + ([encoding_errors] if encoding_errors != "strict" else []))
    description = files[0] if len(files) == 1 else f"{pattern} ({len(files)} files)"

    if ext == ".txt":
        if text_column != "text":
            raise UserError(f"a .txt file has no columns (one document per line): drop --text-column {text_column}")

        def blocks():
            for f in files:
                compression = _kind(f)[1]
                try:
                    with _open_binary(f, compression) as fh:
                        yield from _txt_blocks(fh, f, compression)
                except (OSError, EOFError, lzma.LZMAError) as e:  # a damaged or cut compressed file
                    raise UserError(f"cannot read {f!r} ({e}): check the file") from None
        return TextSource(description, fingerprint, files=tuple(files), blocks=blocks, encoding_errors=encoding_errors)

    def blocks():
        import datasets

        try:
            ds = datasets.load_dataset(_FILE_BUILDERS[ext], data_files=files, split="train", streaming=True)
            for table in ds.with_format("arrow").iter(batch_size=1000):
                if text_column not in table.column_names:
                    raise UserError(f"{description} has no column {text_column!r}: pass --text-column with one of "
                                    f"{', '.join(table.column_names)}")
                yield from _column_blocks(table, text_column, description)
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - arrow/json/csv parsers raise many types
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UserError(f"cannot read {description} as {ext[1:]} ({reason[:160]}): check the file") from None

    return TextSource(description, fingerprint, files=tuple(files), blocks=blocks)


def _column_blocks(table, text_column: str, where: str) -> Iterator[TextBlock]:
    """The blocks of one Arrow batch's text column; a batch of missing values has none, other values are an error."""
    column = table.column(text_column).combine_chunks()
    if not _is_text(column.type):
        if column.null_count == len(column):
            return
        bad = next(v for v in column.to_pylist() if v is not None)
        raise UserError(f"column {text_column!r} of {where} holds {type(bad).__name__} values such as {bad!r}, "
                        "not text: pass --text-column with a text column")
    yield from _arrow_blocks(column)


def _is_text(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _txt_blocks(fh, file: str, compression: str, block_bytes: int = BLOCK_BYTES) -> Iterator[TextBlock]:
    """Blocks of whole lines of a binary stream, read into one reused buffer (no allocation per block); a line
    longer than the buffer is cut at a space (``continues``). Each block is valid until the next is asked for."""
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
        starts, ends, used = scan.line_bounds(array, filled, eof)
        if used == 0:  # the buffer is full and holds no line end: part of a long line
            used = _cut_point(array, 0, filled - 1)
            yield TextBlock(array, np.zeros(1, np.int64), np.array([used], np.int64), True, file, compression)
        elif starts.shape[0]:
            yield TextBlock(array, starts, ends, False, file, compression)
        del array
        if eof and used >= filled:
            return
        buf[:filled - used] = buf[used:filled]  # the rest of the last line moves to the front
        filled -= used


# ---------------------------------------------------------------------------------------------------
# The encoded corpus


@dataclass
class EncodedCorpus:
    """Token ids of the whole corpus and where its pieces start.

    ``ids``: int32[N], in-vocabulary tokens only, memory-mapped from disk.
    ``starts``: int64[P + 1], first position of each piece and N last. A piece is a document or, for a
    document longer than ``max_piece_length``, a part of one; windows never cross a piece boundary.
    """

    ids: np.ndarray
    starts: np.ndarray
    vocab: Vocab
    n_documents: int
    description: str = ""
    path: str | None = None  # the cache folder, when there is one
    settings: dict | None = None  # what it was encoded with (tokenizer, min_count, ...), when known
    _tmp: object = None  # keeps a temporary folder alive as long as the corpus
    ids_crc32: list[int] | None = None  # CRC-32 of each CRC_BLOCK ids of ids.int32, when the folder has them
    cached: bool = False  # a cache entry: when damaged it is removed, so that the next run encodes the text again
    _verified: np.ndarray | None = None  # which CRC blocks were read and found whole
    encode_seconds: float | None = None  # set when this call encoded the text (not loaded from the cache)
    raw_tokens: int | None = None  # tokens read from the text (before min_count), when known

    @property
    def n_tokens(self) -> int:
        return int(self.ids.shape[0])

    def chunk_bounds(self, chunk_tokens: int) -> np.ndarray:
        """Piece indices that cut the corpus into chunks of at most ``chunk_tokens`` tokens (or one piece)."""
        bounds = [0]
        n_pieces = self.starts.shape[0] - 1
        while bounds[-1] < n_pieces:
            first = bounds[-1]
            limit = self.starts[first] + chunk_tokens
            last = int(np.searchsorted(self.starts, limit, side="right")) - 1
            bounds.append(min(max(last, first + 1), n_pieces))
        return np.array(bounds, dtype=np.int64)

    def chunk(self, bounds: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk c of ``chunk_bounds``: (a writable copy of its ids read from disk, its local piece starts)."""
        starts = self.starts[bounds[c]:bounds[c + 1] + 1]
        self.verify(int(starts[0]), int(starts[-1]))
        ids = np.array(self.ids[starts[0]:starts[-1]])
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.vocab)):  # the kernels index rows with them
            self._damaged(f"token ids up to {ids.max()}, a vocabulary of {len(self.vocab)} words")
        return ids, starts - starts[0]

    def verify(self, a: int, b: int) -> None:
        """Check the CRC of every block of ids that overlaps ids[a:b] and was not checked yet (each is read once
        per process: cheap, and lazy, so that a run starts at once). A damaged block is an error, never trained on."""
        if self.ids_crc32 is None or b <= a:
            return
        if self._verified is None:
            self._verified = np.zeros(len(self.ids_crc32), dtype=bool)
        for k in range(a // CRC_BLOCK, (b - 1) // CRC_BLOCK + 1):
            if self._verified[k]:
                continue
            block = np.ascontiguousarray(self.ids[k * CRC_BLOCK:(k + 1) * CRC_BLOCK])
            if zlib.crc32(block) != self.ids_crc32[k]:
                self._damaged(f"block {k} of ids.int32 fails its checksum")
            self._verified[k] = True

    def _damaged(self, reason: str) -> None:
        where = f"encoded corpus {self.path!r}" if self.path else "the corpus"
        if self.cached and self.path:  # derived data: remove it, the next run encodes the text again
            with contextlib.suppress(OSError):
                os.remove(os.path.join(self.path, "meta.json"))
            shutil.rmtree(self.path, ignore_errors=True)
            raise UserError(f"the cached {where} is damaged ({reason}) and was removed: run again to encode the text "
                            "again (with --resume, training goes on from the last checkpoint)")
        raise UserError(f"{where} is damaged ({reason}): {DAMAGED_FIX}")

    def documents(self) -> Iterator[np.ndarray]:
        """Token ids piece by piece (for tests and the naive pipeline)."""
        for a, b in zip(self.starts[:-1], self.starts[1:]):
            yield np.asarray(self.ids[a:b])

    def save(self, folder: str) -> None:
        """Write the corpus in the cache layout (ids.int32, starts.npy, vocab.tsv, meta.json): a slice or
        a corpus encoded elsewhere can then be loaded with ``EncodedCorpus.load``, e.g. on a GPU machine
        that has neither the dataset nor ``datasets``. meta.json is written last: a folder holding it is whole."""
        os.makedirs(folder, exist_ok=True)
        step = 1 << 24
        with open(os.path.join(folder, "ids.int32"), "wb") as f:
            for a in range(0, self.n_tokens, step):
                np.asarray(self.ids[a:a + step], dtype=np.int32).tofile(f)
        np.save(os.path.join(folder, "starts.npy"), np.asarray(self.starts, dtype=np.int64))
        self.vocab.save(os.path.join(folder, "vocab.tsv"))
        with open(os.path.join(folder, "meta.json"), "w") as f:
            json.dump({"format": CACHE_FORMAT, "n_documents": self.n_documents, "n_tokens": self.n_tokens,
                       "raw_tokens": self.n_tokens, "description": self.description, "settings": self.settings,
                       "crc_block": CRC_BLOCK, "ids_crc32": _read_back(os.path.join(folder, "ids.int32"))[1]}, f)

    @classmethod
    def load(cls, folder: str, description: str | None = None) -> "EncodedCorpus":
        """An encoded corpus from its folder (a cache folder of ``encode``, or one written by ``save``)."""
        if not os.path.isfile(os.path.join(folder, "meta.json")):
            raise UserError(f"{folder!r} is not an encoded corpus (no meta.json): encode the text first, "
                            "or pass the folder that fastw2v.encode / EncodedCorpus.save wrote")
        return _load(folder, description)


def is_encoded_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "meta.json"))


def load_corpus(path: str, tokenizer: str = "simple", min_count: int = 5, cache_dir: str | None = DEFAULT_CACHE_DIR,
                progress: bool = False) -> EncodedCorpus:
    """The corpus a path names: an encoded folder (loaded as it is), text files or a glob (``--data``), or a
    dataset name or folder (``--dataset``); text is encoded with the given settings, through the cache."""
    if is_encoded_folder(path):
        return EncodedCorpus.load(path)
    is_files = glob.has_magic(path) or os.path.isfile(path)
    source = open_source(data=path) if is_files else open_source(dataset=path)
    return encode(source, tokenizer, min_count, cache_dir=cache_dir, progress=progress)


def encode(source: TextSource, tokenizer: str = "simple", min_count: int = 5, max_vocab_size: int | None = None,
           max_piece_length: int = 10000, cache_dir: str | None = DEFAULT_CACHE_DIR,
           progress: bool = False, max_counted_words: int | None = MAX_COUNTED_WORDS, vocab: Vocab | None = None,
           extend: bool = False, trim_rule=None) -> EncodedCorpus:
    """Encode a text source, or load it from the cache when the same source and settings were seen.

    Counting holds at most ``max_counted_words`` distinct words: when the table is full, the words seen at most
    n times so far are dropped, n = 1, then 2, ... (word2vec.c's rule; gensim's ``max_vocab_size``).
    With ``vocab`` the text is encoded with that vocabulary, in its order (its other words are dropped), or with
    ``extend`` with that vocabulary followed by the text's new words that pass ``min_count``; the corpus's
    ``vocab.tsv`` then holds this text's counts of those words. ``trim_rule(word, count, min_count)`` is
    gensim's: 1 drops a word, 2 keeps it, 0 leaves it to ``min_count``. Those three options never use the cache."""
    if tokenizer not in TOKENIZERS:
        raise UserError(f"unknown tokenizer {tokenizer!r}: choose one of {', '.join(TOKENIZERS)}")
    if vocab is not None or trim_rule is not None:
        cache_dir = None
    key_fields = [CACHE_FORMAT, source.fingerprint, tokenizer, min_count, max_vocab_size, max_piece_length,
                  max_counted_words]
    key = hashlib.sha1(json.dumps(key_fields).encode()).hexdigest()[:20]
    settings = {"tokenizer": tokenizer, "min_count": min_count, "max_vocab_size": max_vocab_size,
                "max_piece_length": max_piece_length, "max_counted_words": max_counted_words}
    started = time.perf_counter()
    cache_dir = None if cache_dir is None else os.path.expanduser(os.fspath(cache_dir))
    if cache_dir is None:
        tmp_holder = tempfile.TemporaryDirectory(prefix="fastw2v-")
        _encode_into(tmp_holder.name, source, settings, progress, vocab, extend, trim_rule)
        corpus = _load(tmp_holder.name, source.description)
        corpus._tmp = tmp_holder
        corpus.encode_seconds = time.perf_counter() - started
        return corpus
    folder = os.path.join(cache_dir, key)
    try:
        os.makedirs(cache_dir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot use {cache_dir!r} as the cache folder ({e.strerror}): pass --cache-dir "
                        "a writable folder") from None
    with _entry_lock(cache_dir, key, folder):  # one encoder per entry: a second run waits, then loads it
        if os.path.exists(os.path.join(folder, "meta.json")):
            try:
                return _load(folder, source.description, cached=True)
            except UserError as e:  # a cache entry is derived data: rebuild it
                print(f"fastw2v: {e.args[0].removesuffix(': ' + DAMAGED_FIX)}; encoding the text again", file=sys.stderr)
                shutil.rmtree(folder, ignore_errors=True)
        for name in os.listdir(cache_dir):  # work folders of runs killed while encoding this entry
            if name.startswith(f".{key}-") and os.path.isdir(os.path.join(cache_dir, name)):
                shutil.rmtree(os.path.join(cache_dir, name), ignore_errors=True)
        work = tempfile.mkdtemp(prefix=f".{key}-", dir=cache_dir)
        try:
            _encode_into(work, source, settings, progress)
            os.replace(work, folder)  # atomic: a cache folder is complete or absent
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    corpus = _load(folder, source.description, cached=True)
    corpus.encode_seconds = time.perf_counter() - started
    return corpus


def cache_entries(cache_dir: str = DEFAULT_CACHE_DIR) -> list[dict]:
    """The encoded corpora in a cache folder: key, path, bytes on disk, tokens, source and settings."""
    cache_dir = os.path.expanduser(cache_dir)
    entries = []
    for name in sorted(os.listdir(cache_dir)) if os.path.isdir(cache_dir) else []:
        path = os.path.join(cache_dir, name)
        if name.startswith(".") or not os.path.isfile(os.path.join(path, "meta.json")):
            continue
        try:
            with open(os.path.join(path, "meta.json")) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
        entries.append(dict(key=name, path=path, bytes=size, tokens=meta.get("n_tokens"),
                            description=meta.get("description"), settings=meta.get("settings") or {}))
    return entries


def clear_cache(cache_dir: str = DEFAULT_CACHE_DIR, keys: list[str] | None = None) -> tuple[int, int, list[str]]:
    """Remove encoded corpora (all, or those of ``keys``) and what killed runs left: (entries, bytes, busy keys).
    An entry another run is encoding or waiting on (it holds the entry's lock) is left alone."""
    cache_dir = os.path.expanduser(cache_dir)
    removed, freed, busy = 0, 0, []
    for entry in cache_entries(cache_dir):
        if keys and entry["key"] not in keys:
            continue
        with _entry_lock(cache_dir, entry["key"], wait=False) as held:
            if not held:
                busy.append(entry["key"])
                continue
            shutil.rmtree(entry["path"], ignore_errors=True)
        removed, freed = removed + 1, freed + entry["bytes"]
    for name in os.listdir(cache_dir) if not keys and os.path.isdir(cache_dir) else []:
        path = os.path.join(cache_dir, name)  # .KEY-xxxx: the work folder of an encoding, killed or running
        if name.startswith(".") and name != ".locks" and os.path.isdir(path):
            with _entry_lock(cache_dir, name[1:].split("-")[0], wait=False) as held:
                if held:
                    shutil.rmtree(path, ignore_errors=True)
    return removed, freed, busy


@contextlib.contextmanager
def _entry_lock(cache_dir: str, key: str, folder: str | None = None, wait: bool = True):
    """An exclusive lock on one cache entry (the empty file ``.locks/KEY``), held while it is checked and
    encoded; released by the system if the process dies. Yields whether it is held: with ``wait`` always (a
    second run waits for the first), without it False when another process holds it. Where there is no fcntl
    (Windows) or the folder is read-only, there is no lock (True)."""
    try:
        import fcntl
    except ImportError:
        yield True
        return
    try:
        os.makedirs(os.path.join(cache_dir, ".locks"), exist_ok=True)
        f = open(os.path.join(cache_dir, ".locks", key), "a")
    except OSError:  # a cache folder we may read but not write: its entries are loaded, never encoded here
        yield True
        return
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            if folder is not None and not os.path.exists(os.path.join(folder, "meta.json")):  # not just loading it
                print(f"fastw2v: note: another run is encoding this text into {folder}: waiting for it",
                      file=sys.stderr)
            fcntl.flock(f, fcntl.LOCK_EX)
        yield True


def _encode_into(folder, source, settings, progress, base_vocab=None, extend=False, trim_rule=None):
    """Pass 1 counts the words (a bounded table), pass 2 reads the text again and writes the vocabulary ids."""
    tokenizer = scan.Tokenizer(settings["tokenizer"], source.encoding_errors)
    min_count, max_vocab_size, max_piece_length = (settings[k] for k in ("min_count", "max_vocab_size", "max_piece_length"))
    table = scan.WordTable(limit=settings.get("max_counted_words"))
    bad_bytes: dict[str, int] = {}
    raw_tokens = 0
    spill = _Spill(folder) if source.costly_to_reread else None
    with compiling("the tokenizer"):  # numba compiles on the first call of a fresh install
        warm = np.frombuffer(b"warm up", dtype=np.uint8)
        warm_tokens = tokenizer.tokenize(warm, np.zeros(1, np.int64), np.array([7], np.int64))
        scan.WordTable().count(warm_tokens)
    with Progress("pass 1/2: count", enabled=progress) as bar:
        for block in source.text_blocks():
            tokens = _tokenize(tokenizer, block, source)
            if tokens.bad:
                bad_bytes[block.file] = bad_bytes.get(block.file, 0) + tokens.bad
            if spill is not None and isinstance(block, TokenBlock):
                word_of = np.empty(tokens.n, dtype=np.int32)
                table.count(tokens, word_of)
                spill.write(word_of, tokens.doc_tokens)
            else:
                table.count(tokens)
            raw_tokens += tokens.n
            bar.update(tokens.n)
        bar.line(f"{raw_tokens:,} tokens, {len(table):,} distinct words, {bar.rate():,.0f} tokens/s")
    for file, bad in bad_bytes.items():
        what = "replaced by U+FFFD" if source.encoding_errors == "replace" else "dropped"
        print(f"fastw2v: note: {file}: {bad:,} byte(s) that are not UTF-8 {what} (--encoding-errors "
              f"{source.encoding_errors})", file=sys.stderr)
    if raw_tokens == 0 and base_vocab is None:
        raise UserError(f"the corpus {source.description} is empty (no tokens): check the path and --text-column")
    if table.pruned:
        print(f"fastw2v: note: more than {table.limit:,} distinct words: {table.pruned:,} rare ones were dropped while "
              f"counting (those seen at most {table.min_reduce - 1} times when the table was full; "
              "--max-counted-words)", file=sys.stderr)
    if base_vocab is None:
        vocab, word_id = _vocab_of(table, min_count, max_vocab_size, trim_rule)
    else:
        vocab, word_id = _vocab_with(table, base_vocab, extend, min_count, trim_rule)

    pieces: list[np.ndarray] = []  # each block's piece starts: 8 bytes a piece, nothing kept per document
    position, n_documents = 0, 0  # kept tokens before the block's first document; documents done
    carry = 0  # kept tokens of a document that goes on in the next block
    with open(os.path.join(folder, "ids.int32"), "wb") as out, \
            Progress("pass 2/2: encode", total=raw_tokens, enabled=progress) as bar:
        use_spill = spill is not None and spill.records and table.pruned == 0  # pruning renumbers the words
        for doc_kept, ids, n_read, continues in (spill.mapped(word_id) if use_spill else
                                                 _mapped_blocks(source, tokenizer, table, word_id)):
            ids.tofile(out)
            doc_kept[0] += carry
            carry = int(doc_kept[-1]) if continues else 0
            done = doc_kept[:-1] if continues else doc_kept
            starts = _piece_starts(done, max_piece_length)
            pieces.append(starts[:-1] + position)
            position += int(starts[-1])
            n_documents += done.shape[0]
            bar.update(n_read)
        bar.line(f"{position:,} tokens kept of {bar.n:,}, {len(vocab):,} words, {bar.rate():,.0f} tokens/s")
    if spill is not None:
        spill.remove()  # not used when pruning renumbered the words
    ids_path = os.path.join(folder, "ids.int32")
    counts, crcs = _read_back(ids_path, len(vocab))  # one pass over the ids written, not a bincount per block
    if base_vocab is not None:  # the given order stays; the counts are this text's
        vocab = Vocab(vocab.words, counts)
    elif not np.array_equal(counts, vocab.counts):  # rare words dropped while counting came back, or the text changed
        vocab, renumbered = _recount(vocab, counts, ids_path)
        if renumbered:
            crcs = _read_back(ids_path, len(vocab))[1]
    n_pieces = sum(p.shape[0] for p in pieces)
    starts = np.lib.format.open_memmap(os.path.join(folder, "starts.npy"), mode="w+", dtype=np.int64,
                                       shape=(n_pieces + 1,))
    at = 0
    for p in pieces:  # into the file, never concatenated in memory
        starts[at:at + p.shape[0]] = p
        at += p.shape[0]
    starts[n_pieces] = position
    starts.flush()
    del starts, pieces
    vocab.save(os.path.join(folder, "vocab.tsv"))
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"format": CACHE_FORMAT, "n_documents": n_documents, "n_tokens": position,
                   "raw_tokens": raw_tokens, "settings": settings, "description": source.description,
                   "crc_block": CRC_BLOCK, "ids_crc32": crcs}, f)


def _read_back(path: str, vocab_size: int | None = None) -> tuple[np.ndarray | None, list[int]]:
    """(count of each id, CRC-32 of each CRC_BLOCK ids) of an ids file, in one read; counts only with vocab_size."""
    counts = None if vocab_size is None else np.zeros(vocab_size, dtype=np.int64)
    crcs = []
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * CRC_BLOCK), b""):
            crcs.append(zlib.crc32(block))
            if counts is not None:
                counts += np.bincount(np.frombuffer(block, dtype=np.int32), minlength=vocab_size)
    return counts, crcs


def _mapped_blocks(source: TextSource, tokenizer: "scan.Tokenizer", table: "scan.WordTable", word_id: np.ndarray):
    """Pass 2 over the text: (ids kept per document, the kept ids, tokens read, continues) of each block."""
    for block in source.text_blocks():
        tokens = _tokenize(tokenizer, block, source)
        doc_kept, ids = table.map(tokens, word_id, tokenizer.out_ids)
        yield doc_kept, ids, tokens.n, block.continues


class _Spill:
    """Pass 1's word index of every token of a Python iterable, on disk (4 bytes a token, in the work folder),
    so that pass 2 maps them with numpy instead of walking the iterable and converting its strings again."""

    def __init__(self, folder: str):
        self.paths = os.path.join(folder, "spill-words.int32"), os.path.join(folder, "spill-docs.int64")
        self.files = [open(p, "wb") for p in self.paths]
        self.records: list[tuple[int, int]] = []  # (tokens, documents) of each block

    def write(self, word_of: np.ndarray, doc_tokens: np.ndarray) -> None:
        word_of.tofile(self.files[0])
        doc_tokens.astype(np.int64).tofile(self.files[1])
        self.records.append((word_of.shape[0], doc_tokens.shape[0]))

    def remove(self) -> None:
        for f in self.files:
            f.close()
        for p in self.paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(p)

    def mapped(self, word_id: np.ndarray):
        for f in self.files:
            f.close()
        try:
            with open(self.paths[0], "rb") as fw, open(self.paths[1], "rb") as fd:
                for n_tokens, n_docs in self.records:
                    ids = word_id[np.fromfile(fw, dtype=np.int32, count=n_tokens)]
                    kept = np.concatenate([[0], np.cumsum(ids >= 0)])
                    bounds = np.concatenate([[0], np.cumsum(np.fromfile(fd, dtype=np.int64, count=n_docs))])
                    yield kept[bounds[1:]] - kept[bounds[:-1]], ids[ids >= 0], n_tokens, False
        finally:
            self.remove()


def _tokenize(tokenizer: "scan.Tokenizer", block: TextBlock | TokenBlock, source: TextSource) -> "scan.Tokens":
    if isinstance(block, TokenBlock):
        return scan.given_tokens(block.data, block.starts, block.ends, block.doc_tokens)
    tokens = tokenizer.tokenize(block.data, block.starts, block.ends)
    if tokens.first_bad >= 0 and source.encoding_errors == "strict":
        if block.file is None:
            raise UserError(f"{source.description} holds bytes that are not UTF-8: pass --encoding-errors replace (or skip)")
        line, offset, reason = _locate_bad_utf8(block.file, block.compression)
        where = "byte" if not block.compression else "byte of the decompressed text"
        raise UserError(f"{block.file!r} line {line:,} is not UTF-8 ({reason} at {where} {offset:,}): convert it "
                        "to UTF-8, or pass --encoding-errors replace (or skip)")
    return tokens


def _kept_by_rule(words: list[str], counts: np.ndarray, index: np.ndarray, min_count: int, trim_rule):
    """The counted words that gensim's ``trim_rule`` keeps (1 discard, 2 keep, else min_count decides)."""
    keep = [i for i, (w, c) in enumerate(zip(words, counts.tolist()))
            if (r := trim_rule(w, c, min_count)) == 2 or (r != 1 and c >= min_count)]
    return [words[i] for i in keep], counts[keep], index[keep]


def _candidates(table: "scan.WordTable", min_count: int, trim_rule) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, counts, table indices) of the counted words that min_count, or gensim's trim_rule, keep."""
    if trim_rule is None:
        return table.words(min_count)
    return _kept_by_rule(*table.words(1), min_count, trim_rule)


def _vocab_with(table: "scan.WordTable", base: Vocab, extend: bool, min_count: int, trim_rule):
    """``base``'s words in their order, then (``extend``) the new words that pass min_count and trim_rule."""
    words, counts, index = table.words(1)
    if extend:
        new_words, new_counts, _ = _candidates(table, min_count, trim_rule)
        added = [i for i, w in enumerate(new_words) if w not in base.index]
        added = [new_words[added[i]] for i in frequency_order([new_words[i] for i in added], new_counts[added])]
        base = Vocab(base.words + added, np.zeros(len(base) + len(added), dtype=np.int64))
    word_id = np.full(len(table), -1, dtype=np.int32)
    for w, i in zip(words, index.tolist()):
        j = base.index.get(w)
        if j is not None:
            word_id[i] = j
    return base, word_id


def _vocab_of(table: "scan.WordTable", min_count: int, max_vocab_size: int | None,
              trim_rule=None) -> tuple[Vocab, np.ndarray]:
    """The Vocab of the counted words (count descending, then the word) and each table word's id in it (-1: out)."""
    words, counts, index = _candidates(table, min_count, trim_rule)
    if not words:
        most = int(table.w_count[:len(table)].max()) if len(table) else 0
        raise UserError(f"no word occurs at least min_count={min_count} times (the most frequent occurs {most} times): "
                        "lower --min-count or give a larger corpus")
    order = frequency_order(words, counts)[:max_vocab_size]
    word_id = np.full(len(table), -1, dtype=np.int32)
    word_id[index[order]] = np.arange(len(order), dtype=np.int32)
    return Vocab([words[i] for i in order], counts[order]), word_id


def _recount(vocab: Vocab, counts: np.ndarray, ids_path: str) -> tuple[Vocab, bool]:
    """The vocabulary with the counts of the ids written; when that changes the order, the ids file is renumbered
    (then True)."""
    order = frequency_order(vocab.words, counts)
    renumbered = order != list(range(len(vocab)))
    if renumbered:
        new_id = np.empty(len(vocab), dtype=np.int32)
        new_id[order] = np.arange(len(vocab), dtype=np.int32)
        ids = np.memmap(ids_path, dtype=np.int32, mode="r+")
        for a in range(0, ids.shape[0], 1 << 24):
            ids[a:a + (1 << 24)] = new_id[ids[a:a + (1 << 24)]]
        ids.flush()
        del ids
    return Vocab([vocab.words[i] for i in order], counts[order]), renumbered


def _piece_starts(lengths: np.ndarray, max_piece_length: int) -> np.ndarray:
    """Cut each document into pieces of at most max_piece_length tokens; drop empty documents."""
    from .kernels import piece_starts

    return piece_starts(np.ascontiguousarray(lengths, dtype=np.int64), int(max_piece_length))


def _load(folder: str, description: str | None = None, cached: bool = False) -> EncodedCorpus:
    """The corpus in ``folder``, after checks that its files agree (sizes, piece bounds, vocabulary): a
    damaged folder (a copy cut short, a file edited by hand) is a UserError here, never a crash later
    inside a kernel. Token ids are checked against the vocabulary chunk by chunk (``EncodedCorpus.chunk``)."""
    try:
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        if not isinstance(meta, dict):
            raise ValueError("meta.json is not a JSON object")
        n_tokens, n_documents = int(meta["n_tokens"]), int(meta["n_documents"])
        ids_path = os.path.join(folder, "ids.int32")
        size = os.path.getsize(ids_path)
        if size != 4 * n_tokens:
            raise ValueError(f"ids.int32 holds {size / 4:,.0f} tokens, meta.json says {n_tokens:,}")
        starts = np.load(os.path.join(folder, "starts.npy"), allow_pickle=False)
        if (starts.ndim != 1 or starts.dtype.kind not in "iu" or starts.shape[0] < 1 or starts[0] != 0
                or starts[-1] != n_tokens or np.any(starts[1:] < starts[:-1])):
            raise ValueError(f"starts.npy does not cut the {n_tokens:,} tokens into pieces")
        vocab = Vocab.load(os.path.join(folder, "vocab.tsv"))
        if vocab.total != n_tokens:  # every kept token is a vocabulary word, counted once
            raise ValueError(f"vocab.tsv counts {vocab.total:,} tokens, meta.json says {n_tokens:,}")
    except FileNotFoundError as e:
        raise UserError(f"encoded corpus {folder!r} is damaged ({os.path.basename(e.filename)} is missing): {DAMAGED_FIX}") from None
    except KeyError as e:
        raise UserError(f"encoded corpus {folder!r} is damaged (meta.json has no {e.args[0]!r}): {DAMAGED_FIX}") from None
    except (OSError, ValueError, TypeError) as e:  # JSONDecodeError is a ValueError
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UserError(f"encoded corpus {folder!r} is damaged ({reason}): {DAMAGED_FIX}") from None
    # np.memmap cannot map an empty file; a corpus with no kept token fails earlier, in Vocab.from_counts.
    ids = np.memmap(ids_path, dtype=np.int32, mode="r") if n_tokens else np.zeros(0, dtype=np.int32)
    description = description or meta.get("description") or f"encoded corpus {folder}"
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else None
    crcs = meta.get("ids_crc32")
    if crcs is not None and (meta.get("crc_block") != CRC_BLOCK or len(crcs) != -(-n_tokens // CRC_BLOCK)):
        raise UserError(f"encoded corpus {folder!r} is damaged (meta.json's checksums do not fit ids.int32): {DAMAGED_FIX}")
    raw = meta.get("raw_tokens")
    return EncodedCorpus(ids=ids, starts=starts.astype(np.int64, copy=False), vocab=vocab, n_documents=n_documents,
                         description=description, path=folder, settings=settings, ids_crc32=crcs, cached=cached,
                         raw_tokens=raw if isinstance(raw, int) else None)


def open_source(dataset: str | None = None, data: str | None = None, text_column: str = "text",
                splits: list[str] | None = None, encoding_errors: str = "strict", streaming: bool = False,
                dataset_config: str | None = None) -> TextSource:
    """The CLI's and train()'s choice of source: --data files, else a dataset (hub name or folder)."""
    if data is not None and dataset is not None:
        raise UserError("give either --dataset or --data, not both")
    if data is not None:
        if splits:
            raise UserError("--split picks splits of a --dataset; --data files have none: drop --split")
        if streaming:
            raise UserError("--streaming reads a --dataset as it downloads; --data files are read as streams anyway: "
                            "drop --streaming")
        if dataset_config:
            raise UserError("--dataset-config picks a configuration of a --dataset; --data files have none: drop it")
        return from_files(data, text_column, encoding_errors)
    return from_dataset(dataset or "stanfordnlp/imdb", text_column, splits, streaming, dataset_config)
