"""What ``benchmarks.quality`` prints and writes: each row's line as it finishes, the neighbour agreement between
rows, the table, and the results file with its command, commit, machine (CPU model and GPU) and date."""

from __future__ import annotations

import json
import sys

import numpy as np

import fastw2v

from .benchmarks.common import results_header
from .quality_train import gensim_kind


def neighbour_agreement(a: fastw2v.Vectors, b: fastw2v.Vectors, n_words: int = 1000, topn: int = 10) -> float:
    """Mean share of the ``topn`` nearest neighbours (cosine) that ``a`` and ``b`` give for the same word, over
    the ``n_words`` most frequent words both know: how far two trainings of one corpus agree, without any
    evaluation set. Both neighbour searches run in ``b``'s vocabulary order restricted to the shared words."""
    shared = [w for w in b.index_to_key if w in a]
    words = shared[: max(n_words, topn + 1)]
    if len(shared) <= topn:
        return float("nan")

    def neighbours(v: fastw2v.Vectors) -> np.ndarray:
        m = np.asarray(v.vectors, dtype=np.float32)[[v.key_to_index[w] for w in shared]]
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        sims = m[: len(words)] @ m.T
        sims[np.arange(len(words)), np.arange(len(words))] = -np.inf  # not the word itself
        return np.argpartition(-sims, topn, axis=1)[:, :topn]

    na, nb = neighbours(a), neighbours(b)
    return float(np.mean([len(set(x) & set(y)) / topn for x, y in zip(na, nb)]))


def pairwise_agreement(vectors: dict, n_words: int) -> list[tuple[str, str, float]]:
    """neighbour_agreement of every two rows: does a backend agree with itself across seeds as much as gensim
    does, and with gensim as much as word2vec.c does?"""
    names = list(vectors)
    return [
        (a, b, neighbour_agreement(vectors[a], vectors[b], n_words))
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]


def print_row(row: dict, label: str, names: dict, agreement_later: bool = False) -> None:
    agree = "at the end" if agreement_later else f"{row['agreement']:.3f}"
    print(
        f"    {label} on {names[row['corpus']]}: analogy {row['analogy']:.1f}%  rho {row['ws353_rho']:.3f}  "
        f"agreement {agree}  {row['words_per_sec']:,.0f} words/s  {row['train_seconds']:.0f} s  "
        f"good -> {', '.join(row['probe'].get('good', []))}",
        file=sys.stderr,
        flush=True,
    )


def write_results(path: str, head: dict, names: dict, rows: list[dict], **more) -> None:
    """The rows so far as JSON (rewritten after each row, so a stopped run keeps what it measured), opening with
    the command, commit, machine and date of ``head`` (``header``), as every file in benchmarks/results/ does."""
    with open(path, "w") as f:
        json.dump(dict(**head, corpora=names, rows=rows, **more), f, indent=1)


def header(argv: list[str]) -> dict:
    """The command, commit, machine (CPU model and GPU) and date of this run, taken once at its start (a commit made
    while it runs is not its code): ``common.results_header``."""
    return results_header(argv)


def gap(row: dict, reference: dict | None, key: str, spec: str) -> str:
    """``row[key]`` minus the reference row's, formatted with ``spec``; a dash for the reference itself or none."""
    return "—" if reference is None or row is reference else format(row[key] - reference[key], spec)


def table(rows: list[dict], names: dict) -> str:
    ref = {}
    for r in rows:
        if r["backend"] == "gensim":
            ref.setdefault(r["corpus"], r)
    lines = [
        "| backend | seed | batch | corpus | epochs | analogy % | Δ analogy (pts) | WS353 rho | Δ rho "
        "| agreement | words/s | train s | wall s |",
        "|" + "---|" * 13,
    ]
    for r in rows:
        g = ref.get(r["corpus"])
        on = f" ({r['device']})" if r.get("device", "cpu") != "cpu" else ""
        agree = r.get("agreement", float("nan"))
        on += "".join(f" {k}={v}" for k, v in r.get("variant", {}).items())
        if r["backend"] == "gensim" and "gensim_mode" in r:  # rows of older files have no mode
            on += f" ({gensim_kind(r['gensim_mode'], r['gensim_workers'])})"
        lines.append(
            f"| {r['backend']}{on} | {r.get('seed', '—')} | {r['batch_size'] or '—'} | {r['corpus']} "
            f"| {r['epochs']} | {r['analogy']:.1f} | {gap(r, g, 'analogy', '+.1f')} | "
            f"{r['ws353_rho']:.3f} | {gap(r, g, 'ws353_rho', '+.3f')} | {'—' if agree != agree else f'{agree:.3f}'} | "
            f"{r['words_per_sec']:,.0f} | {r['train_seconds']:.0f} | {r['wall_seconds']:.0f} |"
        )
    lines.append("")
    lines += [f"corpus `{k}`: {v}" for k, v in names.items()]
    models = sorted({(r.get("settings", {}).get("sg", 1), bool(r.get("hs"))) for r in rows})
    lines += [
        f"{'skip-gram' if sg else 'CBOW'}, {'hierarchical softmax (hs=1, negative=0)' if hs else 'negative sampling'}"
        for sg, hs in models
    ]
    jobs = max((r.get("jobs", 1) for r in rows), default=1)
    if jobs > 1:
        lines.append(f"Rows trained {jobs} at a time in parallel processes (--jobs): their words/s are not comparable.")
    lines.append(
        "agreement: the share of each word's 10 nearest neighbours that the reference gensim row (the "
        "first gensim row on the same corpus) also has, over the most frequent words: compare it with "
        "a gensim row of another seed. It needs no evaluation set, so it works on any text."
    )
    lines.append(
        "Δ: difference to the gensim row on the same corpus. analogy: questions-words.txt, 3CosAdd, "
        "30,000 most frequent words, accuracy over the questions with all words known."
    )
    return "\n".join(lines)
