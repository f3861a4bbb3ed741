"""A third evaluation corpus: long-form prose -- novels, scripture, commentary and manuals -- from Debian packages.

    python -m tools.long_corpus --out .devdata/long                   # ~6M tokens (fastw2v's tokenizer)
    python -m tools.long_corpus --out /tmp/long --max-tokens 2000000
    python -m benchmarks.quality --corpus .devdata/long/long.jsonl --slice-tokens 0 --backends gensim,hogwild

Why: IMDB is informal reviews of one topic, the second corpus (``tools.mixed_corpus``) is short documents of
many kinds. Neither has long connected prose: chapters of narrative, where a word's neighbours come from running
sentences rather than from definitions or lists. This corpus is that kind, half of it literary (novels, the King
James Bible, 17th-19th century commentary), the rest expository (books and manuals on Debian, GNU, R, Guile).
It is built from packages any Debian machine can fetch, so it is the same text everywhere.

What, from where (``apt-get download`` into ``--cache-dir``, unpacked with ``dpkg-deb -x``; no root needed):

* ``austen``: Jane Austen's six novels (``r-cran-janeaustenr``: R's lazy-load database of character vectors,
  one element per line, read here with a small R unserializer): one document per chapter.
* ``kjv``: the King James Bible (``sword-text-kjv``, a SWORD zText module: zlib blocks of OSIS markup; Strong's
  numbers and footnotes dropped): one document per chapter.
* ``mhcc``: Matthew Henry's Concise Commentary on the Whole Bible (``sword-comm-mhcc``, SWORD zCom): one
  document per Bible chapter commented (a passage's comment once, though SWORD links it to each of its verses).
* ``tdavid``: C. H. Spurgeon's The Treasury of David, on the Psalms (``sword-comm-tdavid``, SWORD zCom4): one
  document per psalm.
* ``debian-books``: the Debian Administrator's Handbook (``debian-handbook``, its en-US HTML) and the Debian
  Reference (``debian-reference-en``, HTML): one document per section; code (``pre``), tables, navigation and
  the table of contents left out.
* ``info-manuals``: the GNU Coding Standards and Information for Maintainers of GNU Software
  (``gnu-standards``), the Bash reference (``bash-doc``), the Guile reference (``guile-3.0-doc``) and R's
  manuals (``r-doc-info``), as Info files: one document per node; menus, index and licence nodes, definition
  header lines and blocks that do not read as prose (code examples) left out.

A document longer than ``MAX_WORDS`` words is cut at paragraphs into pieces of at most that many. Each source's
documents are deduplicated (exact text, first kept), those under 20 tokens dropped. When all of them hold more
than ``--max-tokens`` tokens, each source gets a share of the budget in proportion to its weight (``WEIGHTS``)
and at most ``--max-share`` of it, filled with a seeded sample of its documents (``tools.mixed_corpus.budgets``);
by default all fit. The kept documents are then shuffled with the seed, so sources interleave.

Writes ``OUT/long.jsonl`` (``{"text": ..., "source": ...}`` per line, what ``benchmarks.quality --corpus`` and
``fastw2v train --data`` read) and ``OUT/sources.json`` (packages and versions, per-source documents and tokens).
Same packages, same arguments -> the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import bz2
import glob
import gzip
import html
import json
import lzma
import os
import re
import struct
import sys
import tempfile
import zlib
from html.parser import HTMLParser

from tools.mixed_corpus import (
    DEFAULT_CACHE,
    chunk_paragraphs,
    deb_version,
    decode,
    download,
    kept_documents,
    print_sources,
    read_text,
    release,
    run,
    squash,
    write_sample,
)

MAX_WORDS = 2000  # a longer chapter / section is cut at paragraphs into pieces of at most this many words
MIN_TOKENS = 20

# source -> the Debian packages it reads
PACKAGES = {
    "austen": ["r-cran-janeaustenr"],
    "kjv": ["sword-text-kjv"],
    "mhcc": ["sword-comm-mhcc"],
    "tdavid": ["sword-comm-tdavid"],
    "debian-books": ["debian-handbook", "debian-reference-en"],
    "info-manuals": ["gnu-standards", "bash-doc", "guile-3.0-doc", "r-doc-info"],
}
# share of the token budget, relative (only used when the sources together exceed --max-tokens)
WEIGHTS = {"austen": 2.0, "kjv": 1.5, "mhcc": 1.0, "tdavid": 1.0, "debian-books": 1.5, "info-manuals": 1.5}


# ---------------------------------------------------------------------------------------------------
# R serialization (XDR) and lazy-load databases: enough for character vectors, lists and their names


class RVector(list):
    """An R vector (atomic or list) with its attributes ({name: value})."""

    def __init__(self, items=(), attributes=None):
        super().__init__(items)
        self.attributes = attributes or {}

    @property
    def names(self) -> list[str] | None:
        return self.attributes.get("names")


class _RReader:
    def __init__(self, data: bytes, pos: int):
        self.data, self.pos, self.refs = data, pos, []

    def int(self) -> int:
        (v,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return v

    def length(self) -> int:
        n = self.int()
        if n == -1:  # a long vector: two more ints
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def attributes(self) -> dict:
        pairs = self.item()
        return {tag: value for tag, value in (pairs or [])}

    def item(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind in (254, 253, 252, 251, 250, 242, 241):  # NULL, the environments, unbound, missing
            return None
        if kind == 255:  # a reference to an earlier symbol or environment
            i = flags >> 8 or self.int()
            return self.refs[i - 1]
        if kind == 1:  # symbol: its name
            name = self.item()
            self.refs.append(name)
            return name
        if kind in (2, 3, 5, 6, 17, 239, 240):  # pairlists (and closures, calls): [(tag, value), ...]
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            car, cdr = self.item(), self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
        if kind == 4:  # environment
            self.int()
            env: dict = {}
            self.refs.append(env)
            for _ in range(4):
                self.item()
            return env
        if kind == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            v = self.data[self.pos : self.pos + n].decode("utf-8", errors="replace")
            self.pos += n
            return v
        n = self.length()
        if kind in (10, 13):  # logical, integer
            v = list(struct.unpack_from(f">{n}i", self.data, self.pos))
            self.pos += 4 * n
        elif kind == 14:  # double
            v = list(struct.unpack_from(f">{n}d", self.data, self.pos))
            self.pos += 8 * n
        elif kind in (16, 19, 20):  # character, list, expression
            v = [self.item() for _ in range(n)]
        elif kind == 24:  # raw
            v = self.data[self.pos : self.pos + n]
            self.pos += n
        else:
            raise ValueError(f"R object of type {kind} not supported")
        return RVector(v, self.attributes() if has_attr else None)


def r_unserialize(data: bytes):
    """An R object from its XDR serialization (``saveRDS``, ``serialize``; version 2 or 3)."""
    if data[:2] != b"X\n":
        raise ValueError("not an XDR R serialization")
    r = _RReader(data, 2)
    version = r.int()
    r.int(), r.int()  # the writer's R version, the oldest reader's
    if version == 3:
        n = r.int()
        r.pos += n  # the native encoding's name
    return r.item()


def r_blob(raw: bytes) -> bytes:
    """One compressed blob of a lazy-load database (or the .rdx): 4 bytes of length, then zlib data, or a type
    byte (Z zlib, 2 bzip2, X xz, 0 none) and its data; a gzip file as such."""
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    kind = raw[4:5]
    if kind == b"2":
        return bz2.decompress(raw[5:])
    if kind == b"X":
        return lzma.decompress(raw[5:])
    if kind == b"0":
        return raw[5:]
    if kind == b"Z":
        return zlib.decompress(raw[5:])
    return zlib.decompress(raw[4:])


def r_lazyload(rdx: bytes, rdb: bytes) -> dict:
    """{name: object} of an R lazy-load database (``data/Rdata.rdx`` and ``.rdb``)."""
    index = r_unserialize(r_blob(rdx))
    variables = index[index.names.index("variables")]
    out = {}
    for name, (offset, size) in zip(variables.names, variables):
        offset, size = int(offset), int(size)
        out[name] = r_unserialize(r_blob(rdb[offset : offset + size]))
    return out


# ---------------------------------------------------------------------------------------------------
# Novels (one line of text per element)

_CHAPTER = re.compile(r"^\s*(?:CHAPTER|Chapter)\s+(?:[IVXLC]+|\d+|[A-Z]+)\b[.:]?\s*$")
_EMPHASIS = re.compile(r"(?<!\w)_([^_\n]+)_(?!\w)")


def novel_chapters(lines: list[str]) -> list[list[str]]:
    """A novel's lines -> its chapters, each a list of paragraphs (blank lines between them). The front matter
    before the first CHAPTER heading, the headings and VOLUME lines left out; _emphasis_ marks removed."""
    chapters: list[list[str]] = []
    para: list[str] = []

    def end_paragraph():
        if para and chapters:
            p = squash(_EMPHASIS.sub(r"\1", " ".join(para)))
            if p and not re.fullmatch(r"(?:VOLUME|Volume)\s+[IVXLC\d]+\.?|THE END|Finis", p):
                chapters[-1].append(p)
        para.clear()

    for line in lines:
        line = line or ""
        if _CHAPTER.match(line):
            end_paragraph()
            chapters.append([])
        elif line.strip():
            para.append(line.strip())
        else:
            end_paragraph()
    end_paragraph()
    return [c for c in chapters if c]


# ---------------------------------------------------------------------------------------------------
# SWORD modules (zText / zCom / zCom4: zlib blocks, a block index and a verse index)


def sword_entries(bzs: bytes, bzv: bytes, bzz: bytes, size_bytes: int = 2) -> list[str]:
    """The entries of one testament of a compressed SWORD module, in index order, each distinct one once (a
    commentary links the verses of a passage to one entry). ``bzs``: per block (offset, compressed size,
    size), uint32 each; ``bzv``: per verse (block, offset, size), uint32, uint32 and uint16 (zText, zCom) or
    uint32 (zText4, zCom4: ``size_bytes=4``); ``bzz``: the zlib blocks."""
    blocks = [struct.unpack_from("<III", bzs, i) for i in range(0, len(bzs) - 11, 12)]
    fmt, step = ("<IIH", 10) if size_bytes == 2 else ("<III", 12)
    cache: dict[int, bytes] = {}
    seen, out = set(), []
    for i in range(0, len(bzv) - step + 1, step):
        b, offset, size = struct.unpack_from(fmt, bzv, i)
        if size == 0 or (b, offset, size) in seen or b >= len(blocks):
            continue
        seen.add((b, offset, size))
        if b not in cache:
            start, n, _ = blocks[b]
            cache = {b: zlib.decompress(bzz[start : start + n])}  # entries come block by block: keep one
        out.append(decode(cache[b][offset : offset + size]))
    return out


_NOTE = re.compile(r"<note\b[^>]*>.*?</note>", re.DOTALL)
_PARA_TAG = re.compile(
    r"<(?:div\b[^>]*type=\"(?:x-p|paragraph|introduction)\"[^>]*|/?p\b[^>]*|lb\b[^>]*|"
    r"/?lg\b[^>]*|/?l\b[^>]*|/?title\b[^>]*|/?item\b[^>]*|/?list\b[^>]*)>"
)
_TAG = re.compile(r"<[^<>]*>")
_CHAPTER_START = re.compile(r"<chapter\b[^>]*\bsID=[^>]*>")


def osis_paragraphs(markup: str) -> list[str]:
    """OSIS markup -> paragraphs of plain text: notes dropped, paragraph, line, title and list tags as breaks,
    every other tag removed (its text kept), entities decoded, the pilcrow gone."""
    text = _PARA_TAG.sub("\n\n", _NOTE.sub(" ", markup))
    text = html.unescape(_TAG.sub("", text)).replace("\u00b6", " ")
    return [squash(p) for p in re.split(r"\n\s*\n", text) if squash(p)]


def sword_chapters(entries: list[str]) -> list[list[str]]:
    """A module's entries (in order) -> its chapters (a new one at each OSIS chapter start milestone), each a
    list of paragraphs; what comes before the first chapter (a preface) is a chapter of its own."""
    stream = " ".join(entries)
    pieces = _CHAPTER_START.split(stream)
    return [ps for ps in (osis_paragraphs(p) for p in pieces) if ps]


# ---------------------------------------------------------------------------------------------------
# Info files

_INFO_NODE = re.compile(r"^File: [^,]*,\s+Node: ([^,\n]+)", re.MULTILINE)
_NOTE_REF = re.compile(r"\*[Nn]ote[ \n]+([^:]+?)::|\*[Nn]ote[ \n]+([^:]+?):[ \n]+[^.,]*([.,])")
_UNDERLINE = re.compile(r"^\s*([*=\-.])\1+\s*$")
_WORD = re.compile(r"^[\"'(‘“]*(?:[A-Za-z][A-Za-z'’\-]*|\d+(?:\.\d+)*)[\"')’”]*[.,;:!?]?[\"')’”]*$")
_CODE_CHARS = "()[]{}<>=$;/\\|#*+`"
SKIP_NODES = re.compile(r"index|licen[cs]e|copying|\(dir\)", re.IGNORECASE)


def looks_like_prose(block: str, min_share: float = 0.7, max_symbols: float = 0.05) -> bool:
    """Most of its whitespace-separated tokens are plain words (letters, with quotes and punctuation) or section
    numbers, and few of its characters are brackets and operators: a sentence or a title, not a code example,
    a table or a list of options."""
    words = block.split()
    if len(words) < 2:
        return False
    chars = sum(len(w) for w in words)
    if sum(block.count(c) for c in _CODE_CHARS) > max_symbols * chars:
        return False
    return sum(1 for w in words if _WORD.match(w)) >= min_share * len(words)


def _note_name(m: re.Match) -> str:
    """'*note Name::' -> 'Name'; '*note Label: (manual)Node.' -> 'Label.'"""
    return re.sub(r"^\([^()]*\)", "", m.group(1) or m.group(2)) + (m.group(3) or "")


def info_nodes(text: str) -> list[tuple[str, list[str]]]:
    """An Info file -> [(node name, paragraphs)]: each node's text up to its menu, title underlines and
    definition header lines (' -- Function: ...') dropped, cross references reduced to their names, blocks
    that do not look like prose dropped. The Indirect and Tag Table parts have no node line and are skipped."""
    nodes = []
    for part in text.split("\x1f"):
        m = _INFO_NODE.search(part)
        if not m:
            continue
        body = part[m.end() :].split("\n", 1)[1] if "\n" in part[m.end() :] else ""
        body = re.split(r"^\* Menu:", body, maxsplit=1, flags=re.MULTILINE)[0]
        lines = [ln for ln in body.splitlines() if not _UNDERLINE.match(ln) and not ln.startswith(" -- ")]
        body = _NOTE_REF.sub(_note_name, "\n".join(lines))
        paras = [squash(b) for b in re.split(r"\n\s*\n", body) if looks_like_prose(b)]
        nodes.append((m.group(1).strip(), paras))
    return nodes


def info_documents(text: str, max_words: int = MAX_WORDS) -> list[str]:
    """One document per node (cut at paragraphs when long); index, licence and copying nodes left out."""
    docs = []
    for name, paras in info_nodes(text):
        if not SKIP_NODES.search(name):
            docs += chunk_paragraphs(paras, max_words)
    return docs


def info_files(folder: str, stem: str) -> list[str]:
    """An Info manual's files in reading order: stem.info(.gz), then stem.info-1, -2, ... by number."""
    files = glob.glob(os.path.join(folder, stem + ".info*"))

    def key(path):
        m = re.search(r"\.info-(\d+)", os.path.basename(path))
        return int(m.group(1)) if m else 0

    return sorted(files, key=key)


# ---------------------------------------------------------------------------------------------------
# HTML books (DocBook output)


class _ProseHTML(HTMLParser):
    BLOCKS = frozenset(
        {
            "p",
            "li",
            "dt",
            "dd",
            "div",
            "br",
            "blockquote",
            "tr",
            "td",
            "th",
            "title",
            "ul",
            "ol",
            "dl",
            "section",
            "figcaption",
            "caption",
        }
    )
    HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
    SKIP = frozenset({"pre", "script", "style", "table", "head", "nav"})
    SKIP_CLASSES = frozenset(
        {
            "navheader",
            "navfooter",
            "toc",
            "list-of-tables",
            "list-of-figures",
            "list-of-examples",
            "index",
            "footnotes",
            "legalnotice",
            "screen",
            "programlisting",
            "docnav",
            "indexterm",
        }
    )
    SKIP_IDS = frozenset({"banner", "title"})  # the handbook's page banner and logo line

    def __init__(self, split_at: set[str]):
        super().__init__(convert_charrefs=True)
        self.split_at = split_at
        self.sections: list[list[str]] = [[]]
        self.text: list[str] = []
        self.skip: list = []  # [tag, depth] while inside a left-out element

    def flush(self):
        p = squash("".join(self.text))
        if p:
            self.sections[-1].append(p)
        self.text = []

    def handle_starttag(self, tag, attrs):
        if self.skip:
            if tag == self.skip[0]:
                self.skip[1] += 1
            return
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        if tag in self.SKIP or classes & self.SKIP_CLASSES or attrs.get("id") in self.SKIP_IDS:
            self.flush()
            if tag not in ("br", "img", "hr"):
                self.skip = [tag, 1]
            return
        if tag in self.HEADINGS or tag in self.BLOCKS:
            self.flush()
            if tag in self.split_at and self.sections[-1]:
                self.sections.append([])

    def handle_endtag(self, tag):
        if self.skip:
            if tag == self.skip[0]:
                self.skip[1] -= 1
                if not self.skip[1]:
                    self.skip = []
            return
        if tag in self.HEADINGS or tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)


def html_sections(text: str, split_at: tuple[str, ...] = ("h1", "h2")) -> list[list[str]]:
    """An HTML page -> its sections (a new one at each heading named in ``split_at``), each a list of
    paragraphs of text; code, tables, navigation, tables of contents and the head left out."""
    parser = _ProseHTML(set(split_at))
    parser.feed(text)
    parser.close()
    parser.flush()
    return [s for s in parser.sections if s]


# ---------------------------------------------------------------------------------------------------
# Extraction


SWORD_MODULES = {  # source -> (module folder under usr/share/sword/modules, index letter, size bytes)
    "kjv": ("texts/ztext/engKJV2006eb", "b", 2),
    "mhcc": ("comments/zcom/mhcc", "b", 2),
    "tdavid": ("comments/zcom/tdavid", "c", 4),
}
INFO_MANUALS = {  # package -> (folder under usr/share/info, manual stems)
    "gnu-standards": ("", ["standards", "maintain"]),
    "bash-doc": ("", ["bash"]),
    "guile-3.0-doc": ("guile-3.0", ["guile"]),
    "r-doc-info": ("", ["R-intro", "R-lang", "R-data", "R-admin", "R-exts", "R-ints", "R-FAQ"]),
}


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def chapters_to_documents(chapters: list[list[str]], max_words: int = MAX_WORDS) -> list[str]:
    docs = []
    for paras in chapters:
        docs += chunk_paragraphs(paras, max_words)
    return docs


def extract_source(source: str, roots: dict[str, str]) -> list[str]:
    """The documents of one source from its unpacked packages ({package: folder})."""
    if source == "austen":
        data = os.path.join(roots["r-cran-janeaustenr"], "usr", "lib", "R", "site-library", "janeaustenr", "data")
        books = r_lazyload(read_bytes(os.path.join(data, "Rdata.rdx")), read_bytes(os.path.join(data, "Rdata.rdb")))
        return chapters_to_documents([c for name in sorted(books) for c in novel_chapters(books[name])])
    if source in SWORD_MODULES:
        sub, letter, size = SWORD_MODULES[source]
        folder = os.path.join(roots[PACKAGES[source][0]], "usr", "share", "sword", "modules", *sub.split("/"))
        entries = []
        for testament in ("ot", "nt"):
            paths = [os.path.join(folder, f"{testament}.{letter}z{x}") for x in "svz"]
            if all(os.path.exists(p) for p in paths):
                entries += sword_entries(*(read_bytes(p) for p in paths), size_bytes=size)
        return chapters_to_documents(sword_chapters(entries))
    if source == "debian-books":
        pages = sorted(
            glob.glob(
                os.path.join(
                    roots["debian-handbook"], "usr", "share", "doc", "debian-handbook", "html", "en-US", "*.html"
                )
            )
        )
        pages = [p for p in pages if os.path.basename(p) not in ("index.html", "ix01.html")]
        ref = os.path.join(roots["debian-reference-en"], "usr", "share", "debian-reference")
        pages += sorted(
            p for p in glob.glob(os.path.join(ref, "*.en.html")) if not os.path.basename(p).startswith("index")
        )
        docs = []
        for page in pages:
            docs += chapters_to_documents(html_sections(read_text(page)))
        return docs
    if source == "info-manuals":
        docs = []
        for pkg in PACKAGES[source]:
            sub, stems = INFO_MANUALS[pkg]
            folder = os.path.join(roots[pkg], "usr", "share", "info", sub)
            for stem in stems:
                text = "".join(read_text(f) for f in info_files(folder, stem))
                docs += info_documents(text)
        return docs
    raise ValueError(source)


# ---------------------------------------------------------------------------------------------------
# Output


def build(out: str, cache_dir: str, max_tokens: int, max_share: float, seed: int, min_tokens: int = MIN_TOKENS) -> dict:
    packages = sorted({p for ps in PACKAGES.values() for p in ps})
    debs = download(packages, cache_dir)
    versions = {p: deb_version(debs[p]) for p in packages}
    by_source: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="fastw2v-long-") as tmp:
        roots = {}
        for p in packages:
            roots[p] = os.path.join(tmp, p)
            run(["dpkg-deb", "-x", debs[p], roots[p]])
        for source in PACKAGES:
            by_source[source] = extract_source(source, roots)
            print(f"{source}: {len(by_source[source]):,} documents", file=sys.stderr, flush=True)

    stats, kept_docs = kept_documents(by_source, PACKAGES, versions, min_tokens)
    rows = write_sample(os.path.join(out, "long.jsonl"), kept_docs, stats, WEIGHTS, max_tokens, max_share, seed)
    summary = {
        "file": "long.jsonl",
        "documents": len(rows),
        "tokens": sum(st["tokens"] for st in stats.values()),
        "tokenizer": "fastw2v simple_tokenize",
        "max_words": MAX_WORDS,
        "min_tokens": min_tokens,
        "max_tokens": max_tokens,
        "max_share": max_share,
        "seed": seed,
        "weights": WEIGHTS,
        "release": release()[0],
        "sources": stats,
    }
    with open(os.path.join(out, "sources.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tools.long_corpus",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", required=True, help="folder for long.jsonl and sources.json")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE, help="where the .deb files are kept")
    p.add_argument("--max-tokens", type=int, default=8_000_000, help="tokens in all (fastw2v's simple tokenizer)")
    p.add_argument("--max-share", type=float, default=0.4, help="the most any one source may hold of --max-tokens")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    s = build(args.out, args.cache_dir, args.max_tokens, args.max_share, args.seed)
    print_sources(os.path.join(args.out, "long.jsonl"), s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
