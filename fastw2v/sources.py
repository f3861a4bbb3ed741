"""Text sources: anything that yields blocks of raw documents (or token lists) and has a fingerprint for the cache
key: Python strings or token lists, a Hugging Face dataset (hub name or folder), text / JSON Lines / CSV / Parquet
files, compressed or not; and the tokenizers that cut their text into words."""

from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import io
import json
import logging
import lzma
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from . import scan
from .errors import UserError

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


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "simple": simple_tokenize,
    "whitespace": whitespace_tokenize,
    "split": split_tokenize,
}


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
        raise UserError(
            f"a document cannot be encoded as UTF-8 ({str(e).splitlines()[0][:120]}): "
            "clean the text (lone surrogates?) before passing it"
        ) from None
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
    offsets = offsets[array.offset : array.offset + len(array) + 1].astype(np.int64)
    data_buf = array.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    return data, offsets


def split_blocks(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_bytes: int = BLOCK_BYTES, file: str | None = None
) -> Iterator[TextBlock]:
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
        raise CorpusTypeError(
            f"sentences must be an iterable of token lists, got {type(sentences).__name__}: pass "
            "e.g. [['first', 'sentence'], ['second', 'one']]"
        )
    if iter(sentences) is sentences:
        raise CorpusTypeError(
            f"sentences is a one-shot iterator ({type(sentences).__name__}): it is read more than "
            "once (counting, then each training call), so pass a list, or an iterable whose "
            "__iter__ starts over, e.g. gensim.models.word2vec.LineSentence(path), or "
            "corpus_file=path"
        )

    def blocks():
        batch, n, warned = [], 0, False
        for number, sentence in enumerate(sentences):
            if isinstance(sentence, str):  # gensim's reading: a string is a sequence of one-character words
                if not warned:
                    logging.getLogger(__name__).warning(
                        "Each 'sentences' item should be a list of words (usually unicode strings). Sentence %d is "
                        "instead plain %s (%r): it is read as its characters, as gensim reads it; pass text.split() "
                        "for its words",
                        number,
                        type(sentence),
                        sentence[:40],
                    )
                    warned = True
                sentence = list(sentence)
            if not hasattr(sentence, "__len__"):
                raise CorpusTypeError(_not_a_sentence(sentence, number))
            batch.append(sentence)
            n += len(sentence)
            if n >= 1 << 20:
                yield _token_block(batch)
                batch, n = [], 0
        if batch:
            yield _token_block(batch)

    return TextSource(name, "", blocks=blocks, costly_to_reread=True)


def _not_a_sentence(sentence, number: int) -> str:
    """The one-line message for sentence ``number`` that is not a list of tokens."""
    if sentence is None:
        return (
            f"sentence {number} is None: pass each sentence as a list of str tokens (drop the missing ones, "
            "or use [] for an empty one)"
        )
    if hasattr(sentence, "__next__"):
        return (
            f"sentence {number} is a one-shot iterator ({type(sentence).__name__}): it is read more than once, "
            "so pass each sentence as a list of tokens, e.g. list(tokens)"
        )
    return f"sentence {number} is a {type(sentence).__name__}, not a list of tokens: pass e.g. ['first', 'sentence']"


def _token_block(batch: list) -> TokenBlock:
    import pyarrow as pa

    try:
        lists = pa.array(batch, type=pa.list_(pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, UnicodeEncodeError) as e:
        raise UserError(
            f"sentences must be lists of str tokens ({str(e).splitlines()[0][:120]}): convert the tokens to str"
        ) from None
    flat = lists.flatten()
    if lists.null_count or flat.null_count:
        raise UserError("a sentence or a token is None: pass lists of str tokens")
    list_offsets = np.frombuffer(lists.buffers()[1], dtype=np.int32)[lists.offset : lists.offset + len(lists) + 1]
    data, offsets = _arrow_buffers(flat)
    return TokenBlock(data, offsets[:-1], offsets[1:], np.diff(list_offsets).astype(np.int64))


def from_dataset(
    name_or_path: str,
    text_column: str = "text",
    splits: list[str] | None = None,
    streaming: bool = False,
    config: str | None = None,
) -> TextSource:
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
            raise UserError(
                f"cannot read dataset folder {name_or_path!r} ({reason}): "
                "check it is laid out like a hub dataset, or pass --data FILES"
            ) from None
        if "config name is missing" in reason.lower() or "available configs" in reason.lower():
            raise UserError(
                f"dataset {name_or_path!r} has several configurations ({reason[:200]}): pick one with "
                "--dataset-config NAME"
            ) from None
        raise UserError(
            f"cannot load dataset {name_or_path!r} from the Hugging Face hub ({reason[:160]}): "
            "without network pass --dataset PATH to a local copy laid out like the hub's "
            "or --data FILE_OR_GLOB"
        ) from None
    finally:
        hub_log.setLevel(level)
    if not isinstance(dd, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        dd = {"train": dd}
    names = list(dd) if splits is None else splits
    _check_splits(dd, names, name_or_path, text_column, streaming)
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


def _check_splits(dd, names: list[str], name_or_path: str, text_column: str, streaming: bool) -> None:
    """Each of ``names`` a split of ``dd`` with a text column ``text_column``: else a one-line error."""
    for s in names:
        if s not in dd:
            raise UserError(f"dataset {name_or_path!r} has no split {s!r}: choose from {', '.join(dd)}")
    for s in names:
        if dd[s].column_names is not None and text_column not in dd[s].column_names:
            raise UserError(
                f"split {s!r} of {name_or_path!r} has no column {text_column!r}: "
                f"pass --text-column with one of {', '.join(dd[s].column_names)}"
            )
    for s in names if not streaming else []:  # a stream may not know its features before it is read
        feature = dd[s].features[text_column]
        if getattr(feature, "dtype", None) not in ("string", "large_string"):
            raise UserError(
                f"column {text_column!r} of split {s!r} holds {getattr(feature, 'dtype', feature)}, not "
                f"text: pass --text-column with a text column ({_text_columns(dd[s].features)})"
            )


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
            raise UserError(
                f"reading {path!r} needs the zstandard package: pip install zstandard, or decompress it first"
            ) from None
        return io.BufferedReader(zstandard.open(path, "rb"))
    return {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[compression](path, "rb")


def locate_bad_utf8(path: str, compression: str) -> tuple[int, int, str]:
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
        raise UserError(
            f"{pattern!r} is a folder: pass the files in it, e.g. --data '{os.path.join(pattern, '*.txt')}'"
        )
    files = sorted(glob.glob(os.path.expanduser(pattern))) if glob.has_magic(pattern) else [pattern]
    if not files or not all(os.path.isfile(f) for f in files):
        missing = pattern if not files else next(f for f in files if not os.path.isfile(f))
        raise UserError(f"no such file {missing!r}: check the path given to --data")
    exts = {_kind(f)[0] for f in files}
    if len(exts) > 1:
        raise UserError(f"--data matched files of several kinds ({', '.join(sorted(exts))}): give one kind at a time")
    ext = exts.pop()
    if ext != ".txt" and ext not in _FILE_BUILDERS:
        raise UserError(
            f"cannot read {ext or 'extension-less'} files: --data takes .txt, .jsonl, .csv or .parquet "
            f"(the first three also compressed: {', '.join(COMPRESSIONS)})"
        )
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
        return _lines_source(files, description, fingerprint, encoding_errors)

    def blocks():
        import datasets

        try:
            ds = datasets.load_dataset(_FILE_BUILDERS[ext], data_files=files, split="train", streaming=True)
            for table in ds.with_format("arrow").iter(batch_size=1000):
                if text_column not in table.column_names:
                    raise UserError(
                        f"{description} has no column {text_column!r}: pass --text-column with one of "
                        f"{', '.join(table.column_names)}"
                    )
                yield from _column_blocks(table, text_column, description)
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - arrow/json/csv parsers raise many types
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UserError(f"cannot read {description} as {ext[1:]} ({reason[:160]}): check the file") from None

    return TextSource(description, fingerprint, files=tuple(files), blocks=blocks)


def _lines_source(files: list[str], description: str, fingerprint: str, encoding_errors: str) -> TextSource:
    """Text files read line by line, one document a line, each decompressed as its name says."""

    def blocks():
        for f in files:
            compression = _kind(f)[1]
            try:
                with _open_binary(f, compression) as fh:
                    yield from _txt_blocks(fh, f, compression)
            except (OSError, EOFError, lzma.LZMAError) as e:  # a damaged or cut compressed file
                raise UserError(f"cannot read {f!r} ({e}): check the file") from None

    return TextSource(description, fingerprint, files=tuple(files), blocks=blocks, encoding_errors=encoding_errors)


def from_text_file(path, encoding_errors: str = "strict") -> TextSource:
    """One text file of documents, one a line, whatever its name (gensim's ``corpus_file``: ``corpus.tst``,
    ``text8``); compressed when its name ends in .gz, .bz2, .xz or .zst. No glob: the name is taken as it is."""
    if encoding_errors not in ENCODING_ERRORS:
        raise UserError(f"unknown encoding_errors {encoding_errors!r}: choose one of {', '.join(ENCODING_ERRORS)}")
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
    return _lines_source([path], path, fingerprint, encoding_errors)


def _column_blocks(table, text_column: str, where: str) -> Iterator[TextBlock]:
    """The blocks of one Arrow batch's text column; a batch of missing values has none, other values are an error."""
    column = table.column(text_column).combine_chunks()
    if not _is_text(column.type):
        if column.null_count == len(column):
            return
        bad = next(v for v in column.to_pylist() if v is not None)
        raise UserError(
            f"column {text_column!r} of {where} holds {type(bad).__name__} values such as {bad!r}, "
            "not text: pass --text-column with a text column"
        )
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
        buf[: filled - used] = buf[used:filled]  # the rest of the last line moves to the front
        filled -= used


def open_source(
    dataset: str | None = None,
    data: str | None = None,
    text_column: str = "text",
    splits: list[str] | None = None,
    encoding_errors: str = "strict",
    streaming: bool = False,
    dataset_config: str | None = None,
) -> TextSource:
    """The CLI's and train()'s choice of source: --data files, else a dataset (hub name or folder)."""
    if data is not None and dataset is not None:
        raise UserError("give either --dataset or --data, not both")
    if data is not None:
        if splits:
            raise UserError("--split picks splits of a --dataset; --data files have none: drop --split")
        if streaming:
            raise UserError(
                "--streaming reads a --dataset as it downloads; --data files are read as streams anyway: "
                "drop --streaming"
            )
        if dataset_config:
            raise UserError("--dataset-config picks a configuration of a --dataset; --data files have none: drop it")
        return from_files(data, text_column, encoding_errors)
    return from_dataset(dataset or "stanfordnlp/imdb", text_column, splits, streaming, dataset_config)
