"""Vector quality of every fastw2v backend against gensim 4, trained on the same token stream.

    python -m benchmarks.quality                        # IMDB, 2 epochs: gensim + hogwild on all of it,
                                                        # gensim + torch rows on the first 5M tokens
    python -m benchmarks.quality --quick                # 1M tokens, 1 epoch: a smoke run
    python -m benchmarks.quality --backends gensim,sgd --batch-sizes 1024,16384 --epochs 3 --out results.json

Both sides get one encoded corpus (fastw2v's simple tokenizer, min_count=5). gensim reads it back as a
``corpus_file`` (one piece per line, words from the vocabulary, space-separated) with min_count=5, so both
vocabularies are the same words with the same counts. The torch CPU backend trains ~40k words/s, so its
rows use a slice (the first ``--slice-tokens`` tokens, vocabulary recounted on the slice with min_count=5)
and gensim is trained on that same slice for their comparison; the table's ``corpus`` column says which
rows used which corpus, and each gap is to the gensim row on the same corpus.

Settings for every row: skip-gram, vector_size=100, window=5, negative=5, sample=1e-3, min_count=5,
the learning rate's defaults (0.025 -> 1e-4 linear for sgd/hogwild/gensim, 0.001 for adam), 2 workers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

import fastw2v
from fastw2v.corpus import DEFAULT_CACHE_DIR, EncodedCorpus, is_encoded_folder
from fastw2v.evaluate import evaluate_analogies, evaluate_word_pairs
from fastw2v.vocab import Vocab

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.join(HERE, "..", "..", "shared", "data", "eval")
DEFAULT_CORPUS = os.path.join(HERE, "..", "..", "shared", "data", "imdb")
BACKENDS = ("gensim", "sgd", "adam", "sparse_adam", "hogwild")
SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5)


def slice_corpus(corpus: EncodedCorpus, n_tokens: int, min_count: int) -> EncodedCorpus:
    """The whole pieces within the first ``n_tokens`` tokens, with the vocabulary recounted on them.

    Words seen fewer than ``min_count`` times in the slice are dropped from it, as encoding the slice's text
    would have done; ids are renumbered in the Vocab order (count descending, then word)."""
    P = max(int(np.searchsorted(corpus.starts, n_tokens, side="right")) - 1, 1)
    ids = np.asarray(corpus.ids[:corpus.starts[P]])
    counts = np.bincount(ids, minlength=len(corpus.vocab))
    vocab = Vocab.from_counts({w: int(c) for w, c in zip(corpus.vocab.words, counts) if c}, min_count=min_count)
    remap = np.full(len(corpus.vocab), -1, dtype=np.int64)
    remap[[corpus.vocab.index[w] for w in vocab.words]] = np.arange(len(vocab))
    new = remap[ids]
    keep = new >= 0
    piece = np.repeat(np.arange(P), np.diff(corpus.starts[:P + 1]))[keep]
    lengths = np.bincount(piece, minlength=P)
    lengths = lengths[lengths > 0]  # a piece left empty is dropped
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return EncodedCorpus(ids=new[keep].astype(np.int32), starts=starts, vocab=vocab, n_documents=len(lengths),
                         description=f"{corpus.description}, first {n_tokens:,} tokens")


def write_corpus_file(corpus: EncodedCorpus, path: str) -> None:
    """One piece per line, words separated by a space (gensim's corpus_file / LineSentence format)."""
    words = np.array(corpus.vocab.words, dtype=object)
    with open(path, "w", encoding="utf-8") as f:
        for a, b in zip(corpus.starts[:-1], corpus.starts[1:]):
            f.write(" ".join(words[np.asarray(corpus.ids[a:b])]) + "\n")


def train_gensim(corpus: EncodedCorpus, epochs: int, workers: int, seed: int, tmp: str):
    from gensim.models import Word2Vec

    path = os.path.join(tmp, f"corpus-{corpus.n_tokens}.txt")
    if not os.path.exists(path):
        write_corpus_file(corpus, path)
    model = Word2Vec(sg=1, hs=0, workers=workers, seed=seed, epochs=epochs, **SETTINGS)
    model.build_vocab(corpus_file=path)
    if len(model.wv) != len(corpus.vocab):
        print(f"warning: gensim's vocabulary has {len(model.wv)} words, ours {len(corpus.vocab)}", file=sys.stderr)
    start = time.perf_counter()
    model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=epochs)
    seconds = time.perf_counter() - start
    wv = model.wv
    vectors = fastw2v.Vectors(list(wv.index_to_key), wv.vectors)
    return vectors, model.corpus_total_words * epochs / seconds, seconds


def train_fastw2v(corpus: EncodedCorpus, backend: str, optimizer: str, batch_size: int, epochs: int, workers: int,
                  seed: int, extra: dict):
    vectors = fastw2v.train(corpus=corpus, backend=backend, optimizer=optimizer, batch_size=batch_size,
                            epochs=epochs, workers=workers, seed=seed, progress=False, **{**SETTINGS, **extra})
    st = vectors.stats
    return vectors, st.words_per_sec, st.seconds


def parse_extra(items: list[str]) -> dict:
    """--set alpha=0.05 --set final_vectors=avg: Config fields for the fastw2v rows, parsed as JSON if they can be."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def plan(args) -> list[tuple[str, str, int | None]]:
    """(backend, corpus name, batch size) for each row; gensim once on each corpus a fastw2v row uses."""
    rows = []
    torch_corpus = "slice" if args.slice_tokens else "full"
    for b in args.backends:
        if b == "sgd":
            rows += [("sgd", torch_corpus, B) for B in args.batch_sizes]
        elif b in ("adam", "sparse_adam"):
            rows.append((b, torch_corpus, args.adam_batch_size))
        elif b == "hogwild":
            rows.append(("hogwild", args.hogwild_corpus if args.slice_tokens else "full", None))
    if "gensim" in args.backends:
        used = [c for c in ("full", "slice") if any(r[1] == c for r in rows)] or ["full"]
        rows = [("gensim", c, None) for c in used] + rows
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--corpus", default=DEFAULT_CORPUS, help="dataset name or folder (fastw2v.open_source(dataset=)), or an encoded corpus folder")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help="where the encoded corpus is cached")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    p.add_argument("--batch-sizes", default="1024,16384,65536", help="torch sgd rows, one per batch size")
    p.add_argument("--adam-batch-size", type=int, default=16384, help="batch size of the adam / sparse_adam rows")
    p.add_argument("--slice-tokens", type=int, default=5_000_000,
                   help="torch rows (and their gensim row) train on the first N tokens; 0: the whole corpus")
    p.add_argument("--hogwild-corpus", choices=("full", "slice"), default="full",
                   help="hogwild is fast enough for the whole corpus; 'slice' sets it beside the torch rows")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a Config field for the fastw2v rows, e.g. --set alpha=0.05 (repeatable)")
    p.add_argument("--analogies", default=os.path.join(EVAL, "questions-words.txt"))
    p.add_argument("--similarity", default=os.path.join(EVAL, "wordsim353.tsv"))
    p.add_argument("--restrict-vocab", type=int, default=30000)
    p.add_argument("--quick", action="store_true", help="everything on the first 1M tokens, 1 epoch")
    p.add_argument("--out", default="results.json", help="rows as JSON, rewritten after each row")
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(args.backends) - set(BACKENDS))
    if unknown:
        p.error(f"unknown backend(s) {', '.join(unknown)}: choose from {', '.join(BACKENDS)}")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    extra = parse_extra(args.set)
    if args.quick:
        args.epochs = 1
    for path in (args.analogies, args.similarity):
        if not os.path.isfile(path):
            p.error(f"no such evaluation file {path!r}: pass --analogies / --similarity")

    if is_encoded_folder(args.corpus):  # e.g. unpacked by benchmarks.carry on a machine without the dataset
        full = EncodedCorpus.load(args.corpus)
    else:
        full = fastw2v.encode(fastw2v.open_source(dataset=args.corpus), "simple", SETTINGS["min_count"],
                              cache_dir=args.cache_dir, progress=sys.stderr.isatty())
    if args.quick:
        full = slice_corpus(full, 1_000_000, SETTINGS["min_count"])
    corpora = {"full": full}
    if args.slice_tokens and not args.quick:
        corpora["slice"] = slice_corpus(full, args.slice_tokens, SETTINGS["min_count"])
    names = {k: f"{'first ' + format(c.n_tokens / 1e6, '.1f') + 'M tokens' if k == 'slice' or args.quick else 'all'} "
                f"({c.n_tokens / 1e6:.1f}M tok, V={len(c.vocab):,})" for k, c in corpora.items()}
    if args.quick:
        args.slice_tokens = 0

    results = []
    with tempfile.TemporaryDirectory(prefix="fastw2v-quality-") as tmp:
        for backend, which, B in plan(args):
            corpus = corpora[which]
            label = backend if B is None else f"{backend} B={B}"
            print(f"--- {label} on {names[which]}, {args.epochs} epoch(s)", file=sys.stderr, flush=True)
            started = time.perf_counter()
            try:
                if backend == "gensim":
                    vectors, wps, seconds = train_gensim(corpus, args.epochs, args.workers, args.seed, tmp)
                elif backend == "hogwild":
                    vectors, wps, seconds = train_fastw2v(corpus, "hogwild", "sgd", 16384, args.epochs,
                                                          args.workers, args.seed, extra)
                else:
                    vectors, wps, seconds = train_fastw2v(corpus, "torch", backend, B, args.epochs, args.workers,
                                                          args.seed, extra)
            except ImportError as e:  # hogwild not written yet, gensim not installed
                print(f"    skipped: {e}", file=sys.stderr)
                continue
            wall = time.perf_counter() - started
            an = evaluate_analogies(vectors, args.analogies, restrict_vocab=args.restrict_vocab)
            ws = evaluate_word_pairs(vectors, args.similarity)
            device = getattr(getattr(vectors, "stats", None), "device", "cpu")  # gensim: the CPU
            row = dict(backend=backend, device=device, batch_size=B, corpus=which, corpus_tokens=corpus.n_tokens,
                       vocab=len(corpus.vocab), epochs=args.epochs, analogy=100 * an.accuracy,
                       analogy_evaluated=an.total, analogy_skipped=an.skipped, ws353_rho=ws.spearman,
                       ws353_oov_percent=ws.oov_percent, words_per_sec=wps, train_seconds=seconds,
                       wall_seconds=wall, settings={**SETTINGS, **(extra if backend != "gensim" else {})},
                       probe={w: [n for n, _ in vectors.most_similar(w, topn=5)]
                              for w in ("good", "horror") if w in vectors})
            results.append(row)
            print(f"    analogy {row['analogy']:.1f}%  rho {ws.spearman:.3f}  {wps:,.0f} words/s  {seconds:.0f} s  "
                  f"good -> {', '.join(row['probe'].get('good', []))}", file=sys.stderr, flush=True)
            with open(args.out, "w") as f:
                json.dump(dict(machine=platform.processor() or platform.machine(), cpus=os.cpu_count(),
                               gpu=gpu_name(), corpora=names, rows=results), f, indent=1)
    print(table(results, names))
    return 0


def gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def table(rows: list[dict], names: dict) -> str:
    ref = {r["corpus"]: r for r in rows if r["backend"] == "gensim"}
    lines = ["| backend | batch | corpus | epochs | analogy % | Δ analogy (pts) | WS353 rho | Δ rho | words/s | "
             "train s | wall s |", "|" + "---|" * 11]
    for r in rows:
        g = ref.get(r["corpus"])
        gap = (lambda k, f: "—" if g is None or r is g else format(r[k] - g[k], f))
        on = f" ({r['device']})" if r.get("device", "cpu") != "cpu" else ""
        lines.append(f"| {r['backend']}{on} | {r['batch_size'] or '—'} | {r['corpus']} | {r['epochs']} | "
                     f"{r['analogy']:.1f} | {gap('analogy', '+.1f')} | "
                     f"{r['ws353_rho']:.3f} | {gap('ws353_rho', '+.3f')} | "
                     f"{r['words_per_sec']:,.0f} | {r['train_seconds']:.0f} | {r['wall_seconds']:.0f} |")
    lines.append("")
    lines += [f"corpus `{k}`: {v}" for k, v in names.items()]
    lines.append("Δ: difference to the gensim row on the same corpus. analogy: questions-words.txt, 3CosAdd, "
                 "30,000 most frequent words, accuracy over the questions with all words known.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
