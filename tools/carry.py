"""Take an encoded corpus to a machine that has neither the dataset nor ``datasets`` (a lent GPU machine).

    python -m tools.carry pack --out .devdata/imdb.npz            # here: encode IMDB (cached), pack it
    python -m tools.carry unpack .devdata/imdb.npz /tmp/imdb_enc  # there: an encoded corpus folder

The pack is one compressed ``.npz``: the token ids (uint16 when the vocabulary has at most 65,536 words:
IMDB's 23.1M tokens are 31 MB), the piece starts and the vocabulary. Unpacked, it is the folder that
``fastw2v.encode`` caches, so the runner (``--corpus FOLDER`` or ``$FASTW2V_BENCH_CORPUS``) and
``benchmarks.quality --corpus FOLDER`` train on exactly the tokens they train on here.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from benchmarks.benchmarks import common
from fastw2v.corpus import EncodedCorpus
from fastw2v.vocab import Vocab


def pack(corpus: EncodedCorpus, path: str) -> None:
    dtype = np.uint16 if len(corpus.vocab) <= 1 << 16 else np.int32
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.savez_compressed(
        path,
        ids=np.asarray(corpus.ids).astype(dtype),
        starts=np.asarray(corpus.starts),
        words=np.array(corpus.vocab.words, dtype=str),
        counts=corpus.vocab.counts,
        n_documents=corpus.n_documents,
        description=corpus.description,
    )


def unpack(path: str) -> EncodedCorpus:
    z = np.load(path)
    return EncodedCorpus(
        ids=z["ids"].astype(np.int32),
        starts=z["starts"],
        vocab=Vocab(z["words"].tolist(), z["counts"]),
        n_documents=int(z["n_documents"]),
        description=str(z["description"]),
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.carry", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pack", help="encode a corpus (cached) and pack it into one .npz")
    a.add_argument("--corpus", default=None, help="dataset folder or text file (default: ../shared/data/imdb)")
    a.add_argument("--out", required=True)
    b = sub.add_parser("unpack", help="write a pack as an encoded corpus folder")
    b.add_argument("pack")
    b.add_argument("folder")
    args = p.parse_args(argv)
    if args.command == "pack":
        corpus = common.full_corpus(args.corpus)
        pack(corpus, args.out)
        print(
            f"{args.out}: {corpus.n_tokens:,} tokens, V={len(corpus.vocab):,}, "
            f"{os.path.getsize(args.out) / 1e6:.1f} MB",
            file=sys.stderr,
        )
    else:
        corpus = unpack(args.pack)
        corpus.save(args.folder)
        print(
            f"{args.folder}: {corpus.n_tokens:,} tokens, V={len(corpus.vocab):,} ({corpus.description})",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
