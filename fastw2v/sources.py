"""Text sources: Python strings or token lists, a Hugging Face dataset (hub name or folder, streamed or not), and
``open_source``, the command line's and ``train``'s choice among them. Each is a ``TextSource`` (``text_blocks``):
read twice, with a fingerprint for the cache key. Local files are read by ``text_files``; this module gathers the
public names of both, so that a caller writes ``sources.from_files`` whichever module holds it."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable

import numpy as np

from .errors import UserError, setting
from .text_blocks import CorpusTypeError, TextBlock, TextSource, TokenBlock, arrow_buffers, column_blocks, str_blocks
from .text_files import check_encoding_errors, from_files, from_text_file

__all__ = [
    "CorpusTypeError",
    "TextBlock",
    "TextSource",
    "TokenBlock",
    "from_dataset",
    "from_files",
    "from_text_file",
    "from_texts",
    "from_token_lists",
    "open_source",
]


def from_texts(texts: Iterable[str], name: str = "texts") -> TextSource:
    """Python strings, one document each (held in memory; their hash is the fingerprint)."""
    texts = list(texts)
    digest = hashlib.sha1("\x00".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
    return TextSource(f"{name} ({len(texts)} documents)", digest, blocks=lambda: str_blocks(texts))


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
    data, offsets = arrow_buffers(flat)
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
    those that have several (``wikimedia/wikipedia``: ``20231101.en``). A local folder is keyed by its resolved
    path and its files' sizes and times (two spellings of one folder are one cache entry), and opened only when
    its text is read (``TextSource.prepare``): a cache hit never loads ``datasets``.
    """
    name_or_path = os.fspath(name_or_path)
    local = os.path.exists(name_or_path)
    if os.path.isfile(name_or_path):
        raise UserError(f"{name_or_path!r} is a file, not a dataset folder: pass it as {setting('data')}")
    if not local and name_or_path.startswith((os.sep, ".", "~")):
        raise UserError(f"no such dataset folder {name_or_path!r}: check the path given as {setting('dataset')}")
    if local and not streaming:
        return _folder_source(name_or_path, text_column, splits, config)
    names, parts = _dataset_parts(name_or_path, text_column, splits, streaming, config, local)
    if streaming:
        info = parts[0].info
        published = {k: [v.num_bytes, v.num_examples] for k, v in (info.splits or {}).items()}
        key_name = os.path.realpath(name_or_path) if local else name_or_path
        fingerprint = json.dumps([key_name, config, names, text_column, "streaming", str(info.version), published])
    else:
        fingerprint = json.dumps([name_or_path, names, text_column, [p._fingerprint for p in parts]])
    return TextSource(
        f"{name_or_path} [{', '.join(names)}]",
        fingerprint,
        blocks=lambda: _part_blocks(parts, text_column, name_or_path),
        location=f"{os.path.realpath(name_or_path)} [{', '.join(names)}]" if local else None,
        text_column=text_column,
    )


def _folder_source(folder: str, text_column: str, splits: list[str] | None, config: str | None) -> TextSource:
    """A local dataset folder, keyed by its files (resolved path, sizes, times) and loaded on first read."""
    root = os.path.realpath(folder)
    stats = []
    for where, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .cache, .git: not the dataset's files
        for name in sorted(n for n in names if not n.startswith(".")):
            path = os.path.join(where, name)
            stats.append((os.path.relpath(path, root), os.path.getsize(path), os.path.getmtime(path)))
    fingerprint = json.dumps(["dataset folder", root, config, splits, text_column, stats])
    opened: list = []

    def prepare() -> None:
        if not opened:
            opened.append(_dataset_parts(folder, text_column, splits, False, config, True)[1])

    def blocks():
        prepare()
        yield from _part_blocks(opened[0], text_column, folder)

    chosen = f" [{', '.join(splits)}]" if splits else ""
    return TextSource(
        folder + chosen, fingerprint, blocks=blocks, location=root + chosen, text_column=text_column, prepare=prepare
    )


def _dataset_parts(name_or_path, text_column, splits, streaming, config, local) -> tuple[list[str], list]:
    """(split names, each split's text column) of a dataset, after checking that they are there."""
    dd = _load_dataset(name_or_path, config, streaming, local)
    names = list(dd) if splits is None else splits
    _check_splits(dd, names, name_or_path, text_column, streaming)
    return names, [dd[s].select_columns([text_column]) for s in names]


def _part_blocks(parts: list, text_column: str, name_or_path: str):
    """The blocks of the text column of each split, in order."""
    for part in parts:
        for table in part.with_format("arrow").iter(batch_size=1000):
            yield from column_blocks(table, text_column, repr(name_or_path))


def _load_dataset(name_or_path: str, config: str | None, streaming: bool, local: bool):
    """``datasets.load_dataset`` of a hub name or a local folder; what it raises becomes a one-line UserError."""
    import datasets

    hub_log = logging.getLogger("huggingface_hub")
    level = hub_log.level
    hub_log.setLevel(logging.ERROR)  # its retry warnings would come before our one line
    try:
        path = os.path.realpath(name_or_path) if local else name_or_path  # datasets' fingerprint follows the spelling
        dd = datasets.load_dataset(path, config, streaming=streaming)
    except Exception as e:  # noqa: BLE001 - the hub raises many types; all mean "cannot load"
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        if local:
            raise UserError(
                f"cannot read dataset folder {name_or_path!r} ({reason}): "
                f"check it is laid out like a hub dataset, or pass its files as {setting('data')}"
            ) from None
        if "config name is missing" in reason.lower() or "available configs" in reason.lower():
            raise UserError(
                f"dataset {name_or_path!r} has several configurations ({reason[:200]}): pick one with "
                f"{setting('dataset_config')}"
            ) from None
        raise UserError(
            f"cannot load dataset {name_or_path!r} from the Hugging Face hub ({reason[:160]}): "
            f"without network pass {setting('dataset')} the path of a local copy laid out like the hub's, "
            f"or {setting('data')} files"
        ) from None
    finally:
        hub_log.setLevel(level)
    if not isinstance(dd, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        dd = {"train": dd}
    return dd


def _check_splits(dd, names: list[str], name_or_path: str, text_column: str, streaming: bool) -> None:
    """Each of ``names`` a split of ``dd`` with a text column ``text_column``: else a one-line error."""
    for s in names:
        if s not in dd:
            raise UserError(f"dataset {name_or_path!r} has no split {s!r}: choose from {', '.join(dd)}")
    for s in names:
        if dd[s].column_names is not None and text_column not in dd[s].column_names:
            raise UserError(
                f"split {s!r} of {name_or_path!r} has no column {text_column!r}: "
                f"choose the column with {setting('text_column')}: one of {', '.join(dd[s].column_names)}"
            )
    for s in names if not streaming else []:  # a stream may not know its features before it is read
        feature = dd[s].features[text_column]
        if getattr(feature, "dtype", None) not in ("string", "large_string"):
            raise UserError(
                f"column {text_column!r} of split {s!r} holds {getattr(feature, 'dtype', feature)}, not "
                f"text: choose a text column with {setting('text_column')} ({_text_columns(dd[s].features)})"
            )


def _text_columns(features) -> str:
    text = [name for name, f in features.items() if getattr(f, "dtype", None) in ("string", "large_string")]
    return "text columns: " + ", ".join(text) if text else "it has none"


def open_source(
    dataset: str | None = None,
    data: str | None = None,
    text_column: str = "text",
    splits: list[str] | None = None,
    encoding_errors: str = "strict",
    streaming: bool = False,
    dataset_config: str | None = None,
) -> TextSource:
    """The command line's and ``train``'s choice of source: files (``data``: a path or a glob), else a dataset (a hub
    name or a folder; ``stanfordnlp/imdb`` when neither is given)."""
    if data is not None and dataset is not None:
        raise UserError(f"give either {setting('dataset')} or {setting('data')}, not both")
    if data is not None:
        if splits:
            raise UserError(f"{setting('splits')} picks splits of a dataset; files have none: drop it")
        if streaming:
            raise UserError(
                f"{setting('streaming', True)} reads a dataset as it downloads; files are read as streams anyway: "
                "drop it"
            )
        if dataset_config:
            raise UserError(
                f"{setting('dataset_config', dataset_config)} picks a configuration of a dataset; files have none: "
                "drop it"
            )
        return from_files(data, text_column, encoding_errors)
    check_encoding_errors(encoding_errors)
    return from_dataset(dataset or "stanfordnlp/imdb", text_column, splits, streaming, dataset_config)
