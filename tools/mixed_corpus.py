"""A second evaluation corpus that is not IMDB: short English documents from several Debian packages.

    python -m tools.mixed_corpus --out .devdata/mixed                 # ~10M tokens (fastw2v's tokenizer)
    python -m tools.mixed_corpus --out /tmp/mixed --max-tokens 2000000
    python -m benchmarks.quality --corpus .devdata/mixed/mixed.jsonl --slice-tokens 0 --backends gensim,hogwild

Why: every quality claim so far was measured on IMDB (long, informal movie reviews, one topic). This corpus is
its opposite on purpose -- short documents (tens to a few hundred words), formal and technical registers, many
topics -- and it is built from packages any Debian machine can fetch, so it is the same text everywhere.

What, from where (``apt-get download`` into ``--cache-dir``, unpacked with ``dpkg-deb -x``; no root needed):

* ``gcide``: the GNU Collaborative International Dictionary of English (``dict-gcide``, dictd format): one
  document per entry, long entries split into groups of senses; pronunciations, etymologies, source tags and
  quotation authors removed.
* ``wordnet``: WordNet 3.0 synsets (``wordnet-base``'s data.noun/verb/adj/adv): the synonyms and the gloss
  with its example sentences, one document per synset.
* ``package-descriptions``: the long descriptions of Debian's packages (the mirror's ``main/i18n/Translation-en``
  of this release, checked against the local apt InRelease when it lists it), one document per package,
  paragraphs already seen dropped (packages of one source repeat them); librust-* skipped (debcargo boilerplate).
* ``manpages``: Linux man pages (``manpages``, ``manpages-dev``), roff stripped crudely, one document per
  section (split at paragraphs when longer than ~300 words); the SYNOPSIS, LIBRARY, SEE ALSO and COLOPHON
  sections, code (no-fill blocks) and tables left out.
* ``foldoc``, ``jargon``, ``devil``: the Free On-line Dictionary of Computing, the Jargon File and Ambrose
  Bierce's Devil's Dictionary (``dict-foldoc``, ``dict-jargon``, ``dict-devil``): one document per entry
  (split when long).
* ``fortunes``: fortune cookies (``fortunes``, ``fortunes-min``, ``fortunes-bofh-excuses``; the ascii-art file
  left out): one document per cookie.

Each source's documents are deduplicated (exact text, first kept), those under 3 tokens dropped. When all of them
hold more than ``--max-tokens`` tokens, each source gets a share of the budget in proportion to its weight
(``WEIGHTS``; a source smaller than its share gives the rest to the others) and at most ``--max-share`` of it,
filled with a seeded sample of its documents. The kept documents are then shuffled with the seed, so sources interleave.

Writes ``OUT/mixed.jsonl`` (``{"text": ..., "source": ...}`` per line: ``fastw2v train --data``,
``benchmarks.quality --corpus`` and ``tools.carry pack --corpus`` read its ``text`` column) and
``OUT/sources.json`` (packages and versions, per-source documents and tokens before and after the budget).
Same packages, same arguments -> the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import lzma
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterable

import numpy as np

from fastw2v.tokenizers import simple_tokenize

DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "fastw2v", "debs")
MAX_WORDS = 300  # a longer entry / section is split at paragraph (or sense) boundaries

# source -> the Debian packages it reads
PACKAGES = {
    "gcide": ["dict-gcide"],
    "wordnet": ["wordnet-base"],
    "manpages": ["manpages", "manpages-dev"],
    "foldoc": ["dict-foldoc"],
    "jargon": ["dict-jargon"],
    "devil": ["dict-devil"],
    "fortunes": ["fortunes", "fortunes-min", "fortunes-bofh-excuses"],
    "package-descriptions": [],  # the release's Translation-en file, not a package
}
# share of the token budget, relative: general English first (the dictionary, WordNet), then the descriptions
# (plain prose about software), then the rest; sources smaller than their share are taken whole
WEIGHTS = {
    "gcide": 3.0,
    "wordnet": 2.0,
    "package-descriptions": 2.0,
    "manpages": 1.5,
    "foldoc": 1.0,
    "jargon": 1.0,
    "devil": 1.0,
    "fortunes": 1.0,
}
FORTUNES_LEFT_OUT = {"ascii-art"}


# ---------------------------------------------------------------------------------------------------
# Text helpers


def squash(text: str) -> str:
    """One line, single spaces."""
    return " ".join(text.split())


def n_words(text: str) -> int:
    return len(text.split())


def chunk_paragraphs(paragraphs: Iterable[str], max_words: int = MAX_WORDS, title: str = "") -> list[str]:
    """Consecutive paragraphs joined into documents of at most ``max_words`` words (a longer paragraph is a
    document of its own, cut into ``max_words`` pieces); ``title`` starts each document."""
    docs, cur, size = [], [], 0
    head = [title] if title else []
    for p in paragraphs:
        p = squash(p)
        if not p:
            continue
        words = p.split()
        if len(words) > max_words:
            if cur:
                docs.append(" ".join(head + cur))
                cur, size = [], 0
            docs += [" ".join(head + words[i : i + max_words]) for i in range(0, len(words), max_words)]
            continue
        if cur and size + len(words) > max_words:
            docs.append(" ".join(head + cur))
            cur, size = [], 0
        cur.append(p)
        size += len(words)
    if cur:
        docs.append(" ".join(head + cur))
    return docs


def paragraphs(text: str) -> list[str]:
    """Blocks of text separated by blank lines."""
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


# ---------------------------------------------------------------------------------------------------
# Fortunes


_OVERSTRIKE = re.compile(r".\x08")  # "_\bx": underlined x on a teletype


def parse_fortunes(text: str) -> list[str]:
    """A fortune file: cookies separated by lines holding only '%'."""
    text = _OVERSTRIKE.sub("", text)
    return [squash(c) for c in re.split(r"^%\s*$", text, flags=re.M) if c.strip()]


# ---------------------------------------------------------------------------------------------------
# WordNet


def wordnet_document(line: str) -> str | None:
    """A line of WordNet's data.noun/verb/adj/adv -> 'synonyms: gloss; "example"', or None for the licence
    header (lines starting with two spaces). Format (wndb(5WN)): offset lex_filenum ss_type w_cnt(hex)
    word lex_id [word lex_id...] p_cnt [pointers...] [frames...] | gloss."""
    if not line.strip() or line.startswith("  "):
        return None
    head, sep, gloss = line.partition(" | ")
    if not sep:
        return None
    fields = head.split()
    n = int(fields[3], 16)
    words = [re.sub(r"\([a-z]+\)$", "", w).replace("_", " ") for w in fields[4 : 4 + 2 * n : 2]]
    return squash(", ".join(words) + ": " + gloss)


# ---------------------------------------------------------------------------------------------------
# dictd dictionaries (.index + .dict.dz)

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def dictd_number(text: str) -> int:
    """dictd's base-64 offsets and lengths: 'Kj' -> 10 * 64 + 35."""
    n = 0
    for c in text:
        n = n * 64 + _B64[c]
    return n


def dictd_entries(index: str, data: bytes) -> list[str]:
    """The entries of a dictd dictionary, in file order: each distinct (offset, length) of the index once,
    the database's own 00-database-* / 00database* entries left out."""
    spans = set()
    for line in index.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith(("00-database", "00database")):
            continue
        spans.add((dictd_number(parts[1]), dictd_number(parts[2])))
    return [decode(data[a : a + n]) for a, n in sorted(spans)]


def decode(raw: bytes) -> str:
    """UTF-8, else Windows-1252 (a few GCIDE entries carry its curly quotes)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


_PRON = re.compile(r"\\[^\\\n]{0,80}\\")  # GCIDE's \Pro*nun"ci*a`tion\
_BRACKETS = re.compile(r"\[[^\[\]]*\]")  # etymologies, [1913 Webster], [R.], [Obs.], citations
_AUTHOR = re.compile(r"(?<!\S)--[A-Za-z][\w.'&]*(?:\s(?:[A-Z][\w.'&]*|of|de|von))*\.?")  # --Shak. --Bp. Hall.
_SOUND = re.compile(r"\s*\([^()\n]*(?:\[[=~^.\-]|\")[^()\n]*\)")  # a respelling: (s[=e]"[~e]r)
_POS = re.compile(r"^\s*,?\s*(?:(?:[a-z]{1,5}\.\s*){1,3}(?:[,;&]\s*|or\s+)?)+")  # ", n.", ", v. t. & i."


def gcide_documents(entry: str, max_words: int = MAX_WORDS) -> list[str]:
    """A GCIDE entry -> documents: 'Headword: definitions...' with its pronunciation, part-of-speech marks,
    etymology and source tags, braces and quotation authors removed; split at senses when long."""
    entry = entry.strip()
    if not entry:
        return []
    first, _, rest = entry.partition("\n")
    headword = first.split("\\")[0].strip().rstrip(",")
    first = _SOUND.sub("", _PRON.sub("", first[len(first.split("\\")[0]) :]))
    body = _POS.sub("", first) + "\n" + rest
    body = _BRACKETS.sub("", _BRACKETS.sub("", _PRON.sub("", body)))  # twice: one level of nesting
    body = _AUTHOR.sub("", body.replace("{", "").replace("}", ""))
    return chunk_paragraphs(paragraphs(body), max_words, title=headword + ":")


_FOLDOC_DATE = re.compile(r"^\s*\(\d{4}-\d{2}-\d{2}\)\s*$", re.M)
_URL = re.compile(r"\(?\b(?:https?|ftp)://\S+|\S+@\S+\.\w+")


def foldoc_documents(entry: str, max_words: int = MAX_WORDS) -> list[str]:
    """A FOLDOC entry: its headword line, then definitions with <domain> tags, {cross references}, [citations],
    URLs and a (date) line."""
    head, _, body = entry.strip().partition("\n")
    body = _FOLDOC_DATE.sub("", body)
    body = _BRACKETS.sub("", re.sub(r"<[^<>\n]*>", "", body))
    body = _URL.sub("", body).replace("{", "").replace("}", "")
    return chunk_paragraphs(paragraphs(body), max_words, title=head.strip() + ":")


def jargon_documents(entry: str, max_words: int = MAX_WORDS) -> list[str]:
    """A Jargon File entry: headword line, a ' /pronunciation/, n.' line, then text with [usage tags] and
    {cross references}."""
    head, _, body = entry.strip().partition("\n")
    body = re.sub(r"^\s*(?:/[^/\n]*/\s*,?)?\s*(?:(?:[a-z]{1,5}\.\s*){1,3}[,;]?\s*)*$", "", body, count=1, flags=re.M)
    body = _BRACKETS.sub("", body).replace("{", "").replace("}", "")
    return chunk_paragraphs(paragraphs(body), max_words, title=head.strip() + ":")


def devil_documents(entry: str, max_words: int = MAX_WORDS) -> list[str]:
    """A Devil's Dictionary entry: 'HEADWORD, n.  Definition...' (verses and their authors kept)."""
    entry = entry.strip()
    m = re.match(r"([A-Z][A-Z '\-]*[A-Z])\s*,\s*((?:[a-z]{1,5}\.\s*){1,3})", entry)
    if m:
        entry = m.group(1).capitalize() + ": " + entry[m.end() :]
    return chunk_paragraphs(paragraphs(entry), max_words)


# ---------------------------------------------------------------------------------------------------
# man pages (roff, stripped crudely)

_ESCAPES = [
    (re.compile(r"\\\".*"), ""),  # comment to the end of the line
    (re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)"), ""),  # font changes \fB \f(CW \f[B]
    (re.compile(r"\\s[+-]?\d+"), ""),  # size changes
    (re.compile(r"\\\*(?:\[[^\]]*\]|\(..|.)"), ""),  # strings
    (re.compile(r"\\(?:\[aq\]|\(aq)"), "'"),
    (re.compile(r"\\(?:\[(?:dq|lq|rq)\]|\((?:dq|lq|rq))"), '"'),
    (re.compile(r"\\(?:\[(?:em|en)\]|\((?:em|en))"), " - "),
    (re.compile(r"\\(?:\[[^\]]*\]|\(..)"), ""),  # other special characters (bullets, ...)
    (re.compile(r"\\[-e]"), lambda m: "-" if m.group(0) == "\\-" else "\\"),
    (re.compile(r"\\[&|^%:c]"), ""),
    (re.compile(r"\\[ ~0]"), " "),
    (re.compile(r"\\(.?)"), r"\1"),  # anything else: the character itself (a line's final \ goes)
]
_FONT_MACROS = {".B", ".I", ".BR", ".RB", ".IR", ".RI", ".BI", ".IB", ".SM", ".SB"}
_BREAKS = {".PP", ".LP", ".P", ".TP", ".TQ", ".IP", ".HP", ".sp", ".SS", ".RS", ".RE", ".in", ".INDENT", ".UNINDENT"}
_SKIP_BLOCKS = {".nf": ".fi", ".EX": ".EE", ".TS": ".TE", ".de": "..", ".EQ": ".EN"}
SKIP_SECTIONS = {"SYNOPSIS", "SEE ALSO", "COLOPHON", "LIBRARY"}


def unescape_roff(text: str) -> str:
    for pattern, repl in _ESCAPES:
        text = pattern.sub(repl, text)
    return text


def _macro_args(rest: str) -> list[str]:
    return [a[1:-1] if a.startswith('"') else a for a in re.findall(r'"[^"]*"?|\S+', rest)]


def roff_sections(text: str) -> list[tuple[str, list[str]]]:
    """A man page's (section name, paragraphs of plain text); no-fill blocks (code), tables and macro
    definitions left out, inline markup removed. A page that only includes another (.so) has none."""
    sections: list[tuple[str, list[str]]] = []
    para: list[str] = []
    skip_until = None
    name = None

    def end_paragraph():
        if para and name is not None:
            sections[-1][1].append(" ".join(para))
        para.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if skip_until:
            if stripped.split()[:1] == [skip_until]:
                skip_until = None
            continue
        if line.startswith(('.\\"', "'\\\"")) or stripped in (".", "'"):
            continue
        if line.startswith((".", "'")):
            macro, _, rest = line.partition(" ")
            macro = "." + macro[1:].strip()
            if macro in _SKIP_BLOCKS:
                skip_until = _SKIP_BLOCKS[macro]
                continue
            if macro in (".SH",):
                end_paragraph()
                name = squash(unescape_roff(" ".join(_macro_args(rest)))).upper()
                sections.append((name, []))
                continue
            if macro in _BREAKS:
                end_paragraph()
                if macro == ".SS" or (macro == ".IP" and rest.strip()):
                    tag = squash(unescape_roff(" ".join(_macro_args(rest)[:1])))
                    if re.search(r"[A-Za-z]{2}", tag):
                        para.append(tag + ("." if macro == ".SS" else ""))
                continue
            if macro in _FONT_MACROS:
                args = _macro_args(rest)
                sep = " " if macro in (".B", ".I", ".SM", ".SB") else ""
                para.append(unescape_roff(sep.join(args)))
                continue
            continue  # any other request: dropped
        if stripped:
            para.append(unescape_roff(line))
        else:
            end_paragraph()
    end_paragraph()
    return [(n, [squash(p) for p in ps if squash(p)]) for n, ps in sections]


def man_documents(text: str, max_words: int = MAX_WORDS) -> list[str]:
    """One document per section of a man page (split at paragraphs when long); SKIP_SECTIONS left out."""
    docs = []
    for name, paras in roff_sections(text):
        if name not in SKIP_SECTIONS:
            docs += chunk_paragraphs(paras, max_words)
    return docs


# ---------------------------------------------------------------------------------------------------
# Debian package descriptions (Translation-en)


def description_documents(
    text: str, skip_prefixes: tuple[str, ...] = ("librust-",), max_words: int = MAX_WORDS
) -> list[str]:
    """A Translation-en file (deb822 stanzas: Package, Description-md5, Description-en) -> one document per
    package: the synopsis, then the long description's paragraphs that no earlier package had."""
    seen: set[str] = set()
    docs = []
    for stanza in re.split(r"\n\s*\n", text):
        m = re.search(r"^Package:\s*(\S+)", stanza, re.M)
        d = re.search(r"^Description-en:[ \t]*(.*)\n?((?:[ \t].*\n?)*)", stanza, re.M)
        if not m or not d or m.group(1).startswith(skip_prefixes):
            continue
        paras, cur = [], []
        for line in d.group(2).splitlines():
            if line.strip() == ".":
                paras.append(" ".join(cur))
                cur = []
            else:
                cur.append(line.strip())
        paras.append(" ".join(cur))
        fresh = []
        for p in paras:
            p = squash(p)
            if p and p not in seen:
                seen.add(p)
                fresh.append(p)
        synopsis = squash(d.group(1))
        if fresh:
            docs += chunk_paragraphs([synopsis.rstrip(".") + "."] + fresh, max_words)
    return docs


# ---------------------------------------------------------------------------------------------------
# Fetching and unpacking


def run(cmd: list[str], **kw) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def download(packages: list[str], cache_dir: str) -> dict[str, str]:
    """{package: .deb path}; ``apt-get download`` only what the cache does not hold yet."""
    os.makedirs(cache_dir, exist_ok=True)
    have = {p: sorted(glob.glob(os.path.join(cache_dir, f"{p}_*.deb"))) for p in packages}
    missing = [p for p in packages if not have[p]]
    if missing:
        print(f"apt-get download {' '.join(missing)}", file=sys.stderr, flush=True)
        # root cannot hand the cache folder to apt's sandbox user: download as the current user
        run(
            ["apt-get", "download", "-o", "APT::Sandbox::User=" + ("root" if os.geteuid() == 0 else "_apt"), *missing],
            cwd=cache_dir,
        )
        have = {p: sorted(glob.glob(os.path.join(cache_dir, f"{p}_*.deb"))) for p in packages}
    for p in packages:
        if not have[p]:
            raise SystemExit(f"apt-get download {p} left no {p}_*.deb in {cache_dir}")
    return {p: have[p][-1] for p in packages}


def deb_version(path: str) -> str:
    return run(["dpkg-deb", "-f", path, "Version"]).strip()


def release() -> tuple[str, str]:
    """(codename, mirror) of this machine's Debian: /etc/os-release and the deb.debian.org default."""
    codename = "bookworm"
    try:
        with open("/etc/os-release") as f:
            codename = re.search(r"^VERSION_CODENAME=(\S+)", f.read(), re.M).group(1).strip('"')
    except (OSError, AttributeError):
        pass
    return codename, "http://deb.debian.org/debian"


def translations(cache_dir: str) -> tuple[str, dict]:
    """The release's main/i18n/Translation-en (xz) from the mirror, cached; its sha256 checked against the
    local apt InRelease of the same suite when one lists it. (text, provenance)."""
    codename, mirror = release()
    url = f"{mirror}/dists/{codename}/main/i18n/Translation-en.xz"
    path = os.path.join(cache_dir, f"Translation-en-{codename}.xz")
    if not os.path.exists(path):
        print(f"fetching {url}", file=sys.stderr, flush=True)
        with urllib.request.urlopen(url, timeout=120) as r, open(path + ".part", "wb") as f:
            f.write(r.read())
        os.replace(path + ".part", path)
    with open(path, "rb") as f:
        raw = f.read()
    sha = hashlib.sha256(raw).hexdigest()
    info = {"url": url, "sha256": sha, "checked_against": None}
    for inrelease in sorted(glob.glob(f"/var/lib/apt/lists/*_dists_{codename}_InRelease")):
        with open(inrelease, errors="replace") as f:
            listing = f.read()
        m = re.search(r"^ ([0-9a-f]{64})\s+\d+\s+main/i18n/Translation-en\.xz$", listing, re.M)
        if m:
            if m.group(1) != sha:
                print(
                    f"warning: {path} is not the Translation-en.xz that {inrelease} lists (the mirror moved "
                    f"on): delete it to fetch it again",
                    file=sys.stderr,
                )
            else:
                info["checked_against"] = os.path.basename(inrelease)
                date = re.search(r"^Date:\s*(.+)$", listing, re.M)
                info["release_date"] = date.group(1) if date else None
            break
    return lzma.decompress(raw).decode("utf-8", errors="replace"), info


def read_dictd(root: str, name: str) -> list[str]:
    base = os.path.join(root, "usr", "share", "dictd", name)
    with open(base + ".index", encoding="utf-8", errors="replace") as f:
        index = f.read()
    with gzip.open(base + ".dict.dz", "rb") as f:  # dictzip is gzip with an extra header field
        data = f.read()
    return dictd_entries(index, data)


def read_text(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    return decode(raw)


def extract_source(source: str, roots: dict[str, str]) -> list[str]:
    """The documents of one source from its unpacked packages ({package: folder})."""
    docs: list[str] = []
    if source in ("gcide", "foldoc", "jargon", "devil"):
        parse = {
            "gcide": gcide_documents,
            "foldoc": foldoc_documents,
            "jargon": jargon_documents,
            "devil": devil_documents,
        }[source]
        for entry in read_dictd(roots[PACKAGES[source][0]], source):
            docs += parse(entry)
    elif source == "wordnet":
        folder = os.path.join(roots["wordnet-base"], "usr", "share", "wordnet")
        for pos in ("noun", "verb", "adj", "adv"):
            for line in read_text(os.path.join(folder, f"data.{pos}")).splitlines():
                d = wordnet_document(line)
                if d:
                    docs.append(d)
    elif source == "manpages":
        for pkg in PACKAGES[source]:
            pages = sorted(glob.glob(os.path.join(roots[pkg], "usr", "share", "man", "man*", "*")))
            for page in pages:
                if os.path.isfile(page) and not os.path.islink(page):
                    docs += man_documents(read_text(page))
    elif source == "fortunes":
        for pkg in PACKAGES[source]:
            folder = os.path.join(roots[pkg], "usr", "share", "games", "fortunes")
            for f in sorted(os.listdir(folder)):
                if f.endswith((".dat", ".u8")) or f in FORTUNES_LEFT_OUT or os.path.islink(os.path.join(folder, f)):
                    continue
                u8 = os.path.join(folder, f + ".u8")  # the UTF-8 copy when there is one
                docs += parse_fortunes(read_text(u8 if os.path.exists(u8) else os.path.join(folder, f)))
    else:
        raise ValueError(source)
    return docs


# ---------------------------------------------------------------------------------------------------
# Budget and output


def budgets(tokens: dict[str, int], max_tokens: int, weights: dict[str, float], max_share: float) -> dict[str, int]:
    """Tokens each source may keep: min(its tokens, max_share * max_tokens, lam * weight), with lam the
    largest value that keeps the sum within max_tokens (all of every source when they fit)."""
    if sum(tokens.values()) <= max_tokens:
        return dict(tokens)
    cap = max_share * max_tokens

    def total(lam):
        return sum(min(t, cap, lam * weights[s]) for s, t in tokens.items())

    lo, hi = 0.0, float(max_tokens)
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) <= max_tokens else (lo, mid)
    return {s: int(min(t, cap, lo * weights[s])) for s, t in tokens.items()}


def take(docs: list[str], counts: list[int], budget: int, rng: np.random.Generator) -> list[int]:
    """Indices (in file order) of a seeded sample of documents whose tokens add up to at most ``budget``."""
    if sum(counts) <= budget:
        return list(range(len(docs)))
    kept, total = [], 0
    for i in rng.permutation(len(docs)):
        if total + counts[i] > budget:
            continue
        kept.append(int(i))
        total += counts[i]
    return sorted(kept)


def kept_documents(by_source: dict, packages: dict, versions: dict, min_tokens: int) -> tuple[dict, dict]:
    """Each source's documents deduplicated (exact text, the first kept), those under ``min_tokens`` tokens dropped:
    (per-source stats, per-source (documents, token counts)). ``by_source`` is emptied as it goes."""
    stats, kept_docs = {}, {}
    for source in packages:
        seen, docs, counts = set(), [], []
        for d in by_source.pop(source):
            if d in seen:
                continue
            seen.add(d)
            n = len(simple_tokenize(d))
            if n >= min_tokens:
                docs.append(d)
                counts.append(n)
        kept_docs[source] = (docs, counts)
        stats[source] = {
            "packages": {p: versions[p] for p in packages[source]},
            "documents_available": len(docs),
            "tokens_available": int(sum(counts)),
        }
    return stats, kept_docs


def write_sample(
    path: str, kept_docs: dict, stats: dict, weights: dict, max_tokens: int, max_share: float, seed: int
) -> list:
    """Each source's seeded sample within its share of ``max_tokens`` (``budgets``, ``take``), shuffled together
    with the seed and written to ``path`` as JSON Lines ({"text", "source"}); the stats get each source's
    documents, tokens, words a document and share. Returns the rows."""
    budget = budgets({s: st["tokens_available"] for s, st in stats.items()}, max_tokens, weights, max_share)
    rng = np.random.default_rng(seed)
    rows = []
    for source, (docs, counts) in kept_docs.items():
        idx = take(docs, counts, budget[source], rng)
        stats[source].update(
            documents=len(idx),
            tokens=int(sum(counts[i] for i in idx)),
            words_per_document=round(float(np.mean([counts[i] for i in idx])), 1) if idx else 0,
        )
        rows += [(docs[i], source) for i in idx]
    order = rng.permutation(len(rows))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".part", "w", encoding="utf-8") as f:
        for i in order:
            f.write(json.dumps({"text": rows[i][0], "source": rows[i][1]}, ensure_ascii=False) + "\n")
    os.replace(path + ".part", path)
    total = sum(st["tokens"] for st in stats.values())
    for st in stats.values():
        st["share"] = round(st["tokens"] / total, 4)
    return rows


def print_sources(path: str, summary: dict) -> None:
    """The corpus's line on stderr and its sources as a markdown table on stdout."""
    print(f"{path}: {summary['documents']:,} documents, {summary['tokens']:,} tokens", file=sys.stderr)
    print("| source | packages | documents | tokens | share | tokens/doc |\n|---|---|---:|---:|---:|---:|")
    for name, st in summary["sources"].items():
        pk = ", ".join(f"{k} {v}" for k, v in st["packages"].items()) or "Translation-en"
        print(
            f"| {name} | {pk} | {st['documents']:,} | {st['tokens']:,} | {100 * st['share']:.1f}% "
            f"| {st['words_per_document']} |"
        )


def build(out: str, cache_dir: str, max_tokens: int, max_share: float, seed: int, min_tokens: int = 3) -> dict:
    packages = sorted({p for ps in PACKAGES.values() for p in ps})
    debs = download(packages, cache_dir)
    versions = {p: deb_version(debs[p]) for p in packages}
    by_source: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="fastw2v-mixed-") as tmp:
        roots = {}
        for p in packages:
            roots[p] = os.path.join(tmp, p)
            run(["dpkg-deb", "-x", debs[p], roots[p]])
        for source in PACKAGES:
            if source == "package-descriptions":
                continue
            by_source[source] = extract_source(source, roots)
            print(f"{source}: {len(by_source[source]):,} documents", file=sys.stderr, flush=True)
    text, provenance = translations(cache_dir)
    by_source["package-descriptions"] = description_documents(text)
    del text

    stats, kept_docs = kept_documents(by_source, PACKAGES, versions, min_tokens)
    if provenance:
        stats["package-descriptions"]["translation_en"] = provenance
    rows = write_sample(os.path.join(out, "mixed.jsonl"), kept_docs, stats, WEIGHTS, max_tokens, max_share, seed)
    summary = {
        "file": "mixed.jsonl",
        "documents": len(rows),
        "tokens": sum(st["tokens"] for st in stats.values()),
        "tokenizer": "fastw2v simple_tokenize",
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
        prog="python -m tools.mixed_corpus",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", required=True, help="folder for mixed.jsonl and sources.json")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE, help="where the .deb files (and Translation-en) are kept")
    p.add_argument("--max-tokens", type=int, default=10_000_000, help="tokens in all (fastw2v's simple tokenizer)")
    p.add_argument("--max-share", type=float, default=0.4, help="the most any one source may hold of --max-tokens")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    s = build(args.out, args.cache_dir, args.max_tokens, args.max_share, args.seed)
    print_sources(os.path.join(args.out, "mixed.jsonl"), s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
