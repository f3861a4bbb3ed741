"""gensim's Word2Vec against fastw2v's, called the same way on the same token lists from a Python iterable.

    python -m benchmarks.gensim_api                         # IMDB, 5 epochs, all cores, seed 1, gensim's defaults
    python -m benchmarks.gensim_api --epochs 1 --seeds 1 2 --sg 1 --out results.json       # skip-gram

The sentences are the corpus's raw documents tokenized by ``fastw2v.tokenizers.simple_tokenize`` in Python, held
in a list: both libraries get the identical list and the identical settings, gensim's defaults (CBOW, the mean of
the window, negative 5, window 5, dim 100, sample 1e-3, min_count 5; ``--sg 1``: skip-gram). Each is timed end
to end (``Word2Vec(sentences, ...)``: its vocabulary scan and its training) and on training alone; words/s =
in-vocabulary tokens x epochs / training seconds (gensim's and word2vec.c's count). It also times fastw2v's
encoder on the list against the same tokens in a text file (``corpus_file``), the iterable path's cost.
Quality: analogy accuracy (questions-words.txt, 3CosAdd, the 30,000 most frequent words) and WordSim353
Spearman's rho.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from .benchmarks import common


def sentences_of(corpus_arg: str | None) -> list[list[str]]:
    from fastw2v.tokenizers import simple_tokenize

    with open(common.raw_text_file(corpus_arg), encoding="utf-8") as f:
        return [simple_tokenize(line) for line in f]


def evaluate(index_to_key, vectors, eval_dir: str) -> dict:
    import fastw2v

    v = fastw2v.Vectors(index_to_key, vectors)
    out = {}
    analogies, pairs = os.path.join(eval_dir, "questions-words.txt"), os.path.join(eval_dir, "wordsim353.tsv")
    if os.path.isfile(analogies):
        out["analogy"] = round(100 * fastw2v.evaluate_analogies(v, analogies).accuracy, 2)
    if os.path.isfile(pairs):
        out["ws353"] = round(fastw2v.evaluate_word_pairs(v, pairs).spearman, 4)
    return out


def run(library: str, sentences, epochs: int, workers: int, seed: int, eval_dir: str, sg: int | None = None) -> dict:
    if library == "gensim":
        from gensim.models import Word2Vec
    else:
        from fastw2v import Word2Vec
    settings = dict(
        hs=0,
        negative=5,
        window=5,
        vector_size=100,
        sample=1e-3,
        min_count=5,
        epochs=epochs,
        workers=workers,
        seed=seed,
        **({} if sg is None else {"sg": sg}),
    )  # no sg: the library's default
    start = time.perf_counter()
    model = Word2Vec(vector_size=100, **{k: v for k, v in settings.items() if k != "vector_size"})
    model.build_vocab(sentences)
    vocab_s = time.perf_counter() - start
    t = time.perf_counter()
    trained, _ = model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    train_s = time.perf_counter() - t
    words = sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key) * epochs
    return dict(
        library=library,
        seed=seed,
        epochs=epochs,
        workers=workers,
        sg=model.sg,
        vocab_seconds=round(vocab_s, 1),
        train_seconds=round(train_s, 1),
        total_seconds=round(vocab_s + train_s, 1),
        words_per_sec=round(words / train_s),
        end_to_end_words_per_sec=round(words / (vocab_s + train_s)),
        vocab=len(model.wv),
        **evaluate(model.wv.index_to_key, model.wv.vectors, eval_dir),
    )


def iterable_vs_file(sentences) -> dict:
    """fastw2v.encode on the list against the same tokens in a text file (corpus_file): both passes, seconds."""
    import fastw2v
    from fastw2v.sources import from_token_lists

    fastw2v.encode(from_token_lists(sentences[:100]), "split", min_count=1, cache_dir=None)  # compile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tokens.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(" ".join(s) + "\n" for s in sentences)
        fastw2v.encode(fastw2v.from_files(path), "split", min_count=1, cache_dir=None)  # warm the page cache
        out = {}
        for name, source in (("iterable", from_token_lists(sentences)), ("file", fastw2v.from_files(path))):
            start = time.perf_counter()
            c = fastw2v.encode(source, "split", min_count=5, cache_dir=None)
            out[f"{name}_seconds"] = round(time.perf_counter() - start, 2)
            out[f"{name}_tokens_per_sec"] = round((c.raw_tokens or c.n_tokens) / out[f"{name}_seconds"])
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gensim_api", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=None, help="dataset folder or text file (default: IMDB)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=common.cpu_count())
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument(
        "--sg",
        type=int,
        choices=(0, 1),
        default=None,
        help="1: skip-gram, 0: CBOW; default: not passed, each library's default (CBOW for both)",
    )
    p.add_argument("--eval-dir", default=os.path.join(common.REPO, "..", "shared", "data", "eval"))
    p.add_argument("--libraries", nargs="+", default=["fastw2v", "gensim"])
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    started = time.perf_counter()
    sentences = sentences_of(args.corpus)
    print(
        f"{len(sentences):,} sentences, {sum(map(len, sentences)):,} tokens "
        f"({time.perf_counter() - started:.0f} s to tokenize in Python)",
        file=sys.stderr,
    )
    rows = [iterable_vs_file(sentences)]
    print(json.dumps(rows[0]), flush=True)
    for seed in args.seeds:
        for library in args.libraries:
            rows.append(run(library, sentences, args.epochs, args.workers, seed, args.eval_dir, args.sg))
            print(json.dumps(rows[-1]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(
                dict(
                    args=vars(args),
                    rows=rows,
                    command="python -m benchmarks.gensim_api " + " ".join(argv if argv is not None else sys.argv[1:]),
                ),
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
