"""Seeded, cached data builders shared by the asv suite and the runner (numpy's ``benchmarks/common.py``).

!!! Must not be changed -- only appended !!!  (changing a builder changes what old results measured)

Every workload reads one token stream: the encoded corpus (IMDB through the same loading code as
``fastw2v.train``: simple tokenizer, min_count=5), or its first ``n_tokens`` tokens (whole pieces).
gensim and word2vec.c read the same stream from a text file (``text_file``: the words, space-separated,
one piece per line) with min_count=1, since the stream is already min_count=5-filtered on the whole
corpus: so every trainer sees the same tokens. Without the IMDB folder a generated Zipf corpus stands in.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from functools import cache

import numpy as np

import fastw2v
from fastw2v.cache import DEFAULT_CACHE_DIR
from fastw2v.corpus import EncodedCorpus
from fastw2v.encode import load_corpus
from fastw2v.vocab import Vocab

# keep_thresholds divides by the count of words absent from a slice (harmless: they are never drawn)
warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMDB = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "imdb"))
BENCH_CACHE = os.path.join(os.path.expanduser(DEFAULT_CACHE_DIR), "bench")

# The settings every trainer gets (word2vec.c / gensim defaults; the comparison). min_count=5 is
# applied once, when the corpus is encoded; the text files the other trainers read hold only those words.
SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=1)
FILE_MIN_COUNT = 1  # gensim / word2vec.c on text_file(): the words in it already passed min_count=5
ZIPF_TOKENS = 5_000_000  # the stand-in corpus when IMDB is absent (IMDB has 23.1M)


class Skip(NotImplementedError):
    """Raised by a setup (or a workload) that cannot run here; asv skips the benchmark."""


def corpus_path(path: str | None = None) -> str:
    """The corpus to measure: ``path``, else ``$FASTW2V_BENCH_CORPUS``, else IMDB when present, else 'zipf'.

    A path is a dataset folder, a text file, or an encoded corpus folder (one with meta.json)."""
    path = path or os.environ.get("FASTW2V_BENCH_CORPUS") or (IMDB if os.path.isdir(IMDB) else "zipf")
    return path if path == "zipf" else os.path.abspath(path)


@cache
def zipf_text(n_tokens: int = ZIPF_TOKENS, vocab_size: int = 50_000, seed: int = 0) -> str:
    """A generated corpus file: Zipf-Mandelbrot word ranks, documents of 20..500 words, like IMDB reviews."""
    path = os.path.join(BENCH_CACHE, f"zipf-{n_tokens}-{vocab_size}-{seed}.txt")
    if os.path.exists(path):
        return path
    os.makedirs(BENCH_CACHE, exist_ok=True)
    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(vocab_size) + 2.7) ** 1.07
    ids = rng.choice(vocab_size, n_tokens, p=p / p.sum())
    lengths = rng.integers(20, 500, n_tokens // 20 + 1)
    ends = np.cumsum(lengths)
    ends = np.append(ends[ends < n_tokens], n_tokens)
    words = np.array([f"w{i}" for i in range(vocab_size)], dtype=object)
    tmp = path + f".{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        for a, b in zip(np.concatenate([[0], ends[:-1]]), ends):
            f.write(" ".join(words[ids[a:b]]) + "\n")
    os.replace(tmp, path)
    return path


@cache
def full_corpus(path: str | None = None) -> EncodedCorpus:
    """The whole corpus through the loading code of training (cached on disk by fastw2v.encode)."""
    path = corpus_path(path)
    if path == "zipf":
        return fastw2v.encode(fastw2v.from_files(zipf_text()), tokenizer="whitespace", min_count=SETTINGS["min_count"])
    return load_corpus(path)  # an encoded folder (e.g. unpacked by tools.carry), files, or a dataset folder


@cache
def text_file(path: str | None = None, n_tokens: int | None = None) -> str:
    """The first ``n_tokens`` tokens (whole pieces; all when None) as words, one piece per line."""
    full = full_corpus(path)
    end_piece = full.starts.shape[0] - 1 if n_tokens is None else int(np.searchsorted(full.starts, n_tokens))
    end_piece = max(1, min(end_piece, full.starts.shape[0] - 1))
    key = hashlib.sha1(f"{full.path or full.description}|{end_piece}".encode()).hexdigest()[:16]
    out = os.path.join(BENCH_CACHE, f"stream-{key}.txt")
    if os.path.exists(out):
        return out
    os.makedirs(BENCH_CACHE, exist_ok=True)
    words = np.array(full.vocab.words, dtype=object)
    tmp = out + f".{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        step = 2000
        for a in range(0, end_piece, step):
            b = min(a + step, end_piece)
            ids = np.asarray(full.ids[full.starts[a] : full.starts[b]])
            cuts = full.starts[a + 1 : b] - full.starts[a]
            f.write("\n".join(" ".join(piece) for piece in np.split(words[ids], cuts)) + "\n")
    os.replace(tmp, out)
    return out


@cache
def corpus(path: str | None = None, n_tokens: int | None = None) -> EncodedCorpus:
    """The token stream of the workloads: the encoded corpus, or its first ``n_tokens`` tokens (whole pieces).

    A slice keeps the whole corpus's vocabulary (counts recounted on the slice), so that the per-step costs
    that grow with V (dense Adam, the tutorial's O(V) np.random.choice, bincount(minlength=V)) are those of
    the full run, not of a toy vocabulary.
    """
    full = full_corpus(path)
    if n_tokens is None or n_tokens >= full.n_tokens:
        return full
    end = max(1, int(np.searchsorted(full.starts, n_tokens)))
    starts = np.ascontiguousarray(full.starts[: end + 1])
    ids = np.ascontiguousarray(full.ids[: starts[-1]])
    counts = np.bincount(ids, minlength=len(full.vocab)).astype(np.int64)
    # Words absent from the slice keep count 0: never a token, never a negative (weight 0).
    return EncodedCorpus(
        ids=ids,
        starts=starts,
        vocab=Vocab(full.vocab.words, counts),
        n_documents=end,
        description=f"{full.description} [first {starts[-1]:,} tokens]",
        path=None,
    )


def indexed_docs(c: EncodedCorpus) -> list[list[int]]:
    """The tutorial's ``indexed_docs``: one Python list of word ids per piece."""
    return [c.ids[a:b].tolist() for a, b in zip(c.starts[:-1], c.starts[1:])]


def has_module(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def word2vec_binary() -> str | None:
    return shutil.which("word2vec")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# --shared-negatives of the scripts that time hogwild (scaling, ab): the Config.shared_negatives values to run
SHARED_NEGATIVES = {"off": (False,), "on": (True,), "both": (False, True)}


def add_shared_negatives_option(parser) -> None:
    parser.add_argument(
        "--shared-negatives",
        choices=tuple(SHARED_NEGATIVES),
        default="off",
        help="hogwild's Config.shared_negatives: off, on (fastw2v's default), or both side by side",
    )


# --- appended: ingest and memory-vs-size rows ---------------------------------------------------------


@cache
def raw_text_file(path: str | None = None) -> str:
    """The corpus's documents as they are (untokenized), one per line (a line end inside a document becomes a
    space): what a user's .txt file looks like. A text-file corpus is itself; the stand-in is the Zipf file."""
    path = corpus_path(path)
    if path == "zipf":
        return zipf_text()
    if os.path.isfile(path) and path.endswith(".jsonl"):  # its "text" column, one document per line
        out = os.path.join(BENCH_CACHE, f"raw-{hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:16]}.txt")
        if not os.path.exists(out):
            os.makedirs(BENCH_CACHE, exist_ok=True)
            with open(path, encoding="utf-8") as f, open(out + ".tmp", "w", encoding="utf-8") as g:
                g.writelines(json.loads(line)["text"].replace("\r", " ").replace("\n", " ") + "\n" for line in f)
            os.replace(out + ".tmp", out)
        return out
    if os.path.isfile(path):
        return path
    if os.path.isfile(os.path.join(path, "meta.json")):
        raise Skip("an encoded corpus has no raw text: pass --corpus a dataset folder or a text file")
    import datasets

    key = hashlib.sha1(path.encode()).hexdigest()[:16]
    out = os.path.join(BENCH_CACHE, f"raw-{key}.txt")
    if os.path.exists(out):
        return out
    os.makedirs(BENCH_CACHE, exist_ok=True)
    tmp = out + f".{os.getpid()}.tmp"
    dd = datasets.load_dataset(path)
    with open(tmp, "w", encoding="utf-8") as f:
        for split in dd:
            for batch in dd[split].iter(batch_size=1000):
                f.write("".join(t.replace("\r", " ").replace("\n", " ") + "\n" for t in batch["text"]))
    os.replace(tmp, out)
    return out


def text_head(path: str, n_bytes: int) -> str:
    """The whole lines within the first ``n_bytes`` of a text file, as a file beside the cache (for slow rows)."""
    out = os.path.join(BENCH_CACHE, f"head-{hashlib.sha1(path.encode()).hexdigest()[:12]}-{n_bytes}.txt")
    if not os.path.exists(out):
        with open(path, "rb") as f:
            data = f.read(n_bytes)
        tmp = out + f".{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data[: data.rfind(b"\n") + 1])
        os.replace(tmp, out)
    return out


def zipf_lines(
    folder: str,
    n_tokens: int,
    line_tokens: int,
    vocab_size: int = 200_000,
    seed: int = 0,
    exponent: float = 1.07,
    shift: float = 2.7,
) -> str:
    """A generated text file in ``folder``: ``n_tokens`` words of ``vocab_size`` types, word r (from 0) drawn with
    probability proportional to (r + shift) ** -exponent (Zipf-Mandelbrot; shift 1, exponent 1: Zipf's law), in
    lines of ``line_tokens`` words (0: one line). The same seed gives the same words whatever the line length."""
    import numba

    @numba.njit(cache=True)
    def fill(ids, pool, offsets, first, line_tokens, out):
        p = 0
        for t in range(ids.shape[0]):
            w = ids[t]
            for k in range(offsets[w], offsets[w + 1]):
                out[p] = pool[k]
                p += 1
            last = line_tokens > 0 and (first + t + 1) % line_tokens == 0
            out[p] = 10 if last else 32
            p += 1
        return p

    words = [f"w{i}".encode() for i in range(vocab_size)]
    pool = np.frombuffer(b"".join(words), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int64)
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(1.0 / (np.arange(vocab_size) + shift) ** exponent)
    cdf /= cdf[-1]
    shape = "" if (exponent, shift) == (1.07, 2.7) else f"-{vocab_size}-{exponent:g}-{shift:g}"
    path = os.path.join(folder, f"zipf-{n_tokens}-{line_tokens}{shape}.txt")
    step = 1 << 23
    with open(path, "wb") as f:
        for first in range(0, n_tokens, step):
            ids = np.searchsorted(cdf, rng.random(min(step, n_tokens - first)))
            out = np.empty(int((offsets[ids + 1] - offsets[ids]).sum()) + ids.shape[0], dtype=np.uint8)
            f.write(out[: fill(ids, pool, offsets, first, line_tokens, out)].tobytes())
        if line_tokens == 0 or n_tokens % line_tokens:
            f.write(b"\n")
    return path


class PeakMemory:
    """The peak anonymous memory (RssAnon: heap and arrays, not file pages a memmap maps) of this process,
    sampled every 10 ms by a thread while the ``with`` block runs."""

    def __init__(self):
        import threading

        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def anon_mib() -> float:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("RssAnon:")) / 1024

    def _sample(self):
        while not self._stop.is_set():
            self.peak_mib = max(self.peak_mib, self.anon_mib())
            self._stop.wait(0.01)

    def __enter__(self):
        if not os.path.exists("/proc/self/status"):
            raise Skip("peak anonymous memory is read from /proc (Linux)")
        self.peak_mib = self.anon_mib()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mib = max(self.peak_mib, self.anon_mib())


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over fork and exec, so a row's
    subprocess would report at least the runner's own RSS at the moment it started the row."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- appended: the CPU model, recorded with every result ------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name: the ``model name`` line of /proc/cpuinfo, else ``platform.processor()``, else '?'."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "?"


def git_commit() -> str | None:
    """The checkout's short commit, '+' when the code (fastw2v/, benchmarks/*.py) differs from it; None outside a
    git checkout."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, check=True).stdout

    try:
        changed = git("status", "--porcelain", "-uno", "--", "fastw2v", "benchmarks/*.py").strip()
        return git("rev-parse", "--short", "HEAD").strip() + ("+" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def results_header(argv: list[str]) -> dict:
    """The command, commit, machine (cores, CPU model, GPU) and date of this run, the first four keys of a results
    file's JSON (tests/test_docs.py), then its cores and GPU; taken once at its start (a commit made while it runs
    is not its code)."""
    import shlex
    import time

    gpu = gpu_name()
    return dict(
        command=shlex.join(argv),
        commit=git_commit(),
        machine=f"{os.cpu_count()}-core {cpu_model()}, {gpu or 'no GPU'}",
        date=time.strftime("%Y-%m-%d"),
        cpus=os.cpu_count(),
        gpu=gpu,
    )
