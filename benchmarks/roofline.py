"""What this machine allows the CPU trainers: a roofline per center, from two measured rates.

    python -m benchmarks.roofline [--corpus DIR] [--dim 100] [--threads 2] [--json out.json]

The probe measures, on one core, (1) the arithmetic rate of the trainers' inner loops: a dot product of two rows
then two row updates (axpy), on rows of ``dim`` floats that stay in the L1 cache, and (2) random row fetches from
matrices of three sizes (one that fits in L2, one in L3, and the two matrices of a ``vocab``-word model): rows read
and written back independently, prefetched a few rows ahead as the trainers prefetch theirs (the rate when many
loads are in flight) and as a chain (each index read from the row before: the
latency); and the model's rows drawn as a corpus's words are (rank r with probability ~ 1/r), which is how the
trainers fetch them: the frequent words' rows stay in the caches.

The model then counts, per center word, the flops and the rows each trainer fetches (word2vec.c's arithmetic), and
bounds its words/s on ``threads`` cores by the slower of the two: flops / the arithmetic rate, rows / the Zipfian row
rate at the model's size. The share of tokens kept after sub-sampling and the mean number of contexts of a kept
center are counted on the corpus (``corpus_shape``: the trainers' own sub-sampling and windows, epoch 0), the
vocabulary is the corpus's; ``--keep``, ``--contexts`` and ``--vocab`` set them instead. A trainer's measured words/s
over this bound is the fraction of its roofline that it reaches: the runner's ``% of roofline`` column
(``python -m benchmarks``; docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass

import numba
import numpy as np

from benchmarks.benchmarks import common
from benchmarks.benchmarks.common import cpu_model
from fastw2v.intrinsics import prefetch_write

FLOAT_BYTES = 4
AHEAD = 8  # rows prefetched ahead in the independent fetches
# The trainers the model bounds (``CenterCost.trainer``; a runner row names its own in ``Row.roofline``)
SG_PER_PAIR, SG_SHARED, CBOW = "skip-gram, per-pair negatives", "skip-gram, shared negatives", "CBOW"


@numba.njit(cache=True, fastmath=True)
def _dot_axpy(rows: np.ndarray, repeats: int) -> float:
    """The pair step's arithmetic on rows in L1: per pair of rows a dot product and two axpy updates."""
    n, d = rows.shape
    total = 0.0
    for _ in range(repeats):
        for i in range(n - 1):
            a, b = rows[i], rows[i + 1]
            dot = np.float32(0.0)
            for c in range(d):
                dot += a[c] * b[c]
            g = np.float32(1e-6) * (np.float32(1.0) - dot * np.float32(1e-3))
            for c in range(d):
                b[c] += g * a[c]
            for c in range(d):
                a[c] += g * b[c]
            total += dot
    return total


@numba.njit(cache=True, fastmath=True)
def _independent_rows(m: np.ndarray, ids: np.ndarray, out: np.ndarray) -> None:
    """Read the rows ``ids``, add each into ``out`` and write it back, as the trainers do; each row's lines are
    prefetched ``AHEAD`` rows early, as the trainers prefetch theirs, so that as many loads overlap as the core
    allows."""
    d = m.shape[1]
    for k in range(ids.shape[0]):
        if k + AHEAD < ids.shape[0]:
            for c in range(0, d, 16):
                prefetch_write(m, (ids[k + AHEAD], c))
        i = ids[k]
        for c in range(d):
            v = m[i, c]
            out[c] += v
            m[i, c] = v * np.float32(0.9999999)


@numba.njit(cache=True, fastmath=True)
def _chained_rows(m: np.ndarray, nxt: np.ndarray, steps: int, out: np.ndarray) -> int:
    """Read ``steps`` rows, each one's index taken from the row read before it (no two loads overlap)."""
    d = m.shape[1]
    i = 0
    for _ in range(steps):
        for c in range(d):
            out[c] += m[i, c]
        i = nxt[i] + int(out[0] * np.float32(0.0))  # the next index depends on this row's data
    return i


def _best_of(fn, runs: int = 5) -> float:
    """The shortest of ``runs`` timings of ``fn()`` in seconds (the least disturbed by other work)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def flops_per_second(dim: int, rows: int = 32, repeats: int = 4000) -> float:
    """One core's rate on the dot + two axpy pattern, in flops/s (2 flops a multiply-add)."""
    m = np.random.default_rng(0).standard_normal((rows, dim)).astype(np.float32) * 0.01
    _dot_axpy(m, 1)
    seconds = _best_of(lambda: _dot_axpy(m, repeats))
    return repeats * (rows - 1) * 6 * dim / seconds


def zipf_ids(n_rows: int, fetches: int, rng: np.random.Generator) -> np.ndarray:
    """Row ids drawn as a corpus's words are: the row of rank r with probability ~ 1 / r."""
    p = 1.0 / np.arange(1, n_rows + 1)
    return rng.choice(n_rows, size=fetches, p=p / p.sum()).astype(np.int64)


def row_rates(n_rows: int, dim: int, fetches: int = 400_000, zipf: bool = False) -> tuple[float, float]:
    """Random rows of a ``n_rows`` x ``dim`` float32 matrix, uniform or Zipfian (``zipf``): (rows/s read
    independently, seconds per chained row; the chain's rows are uniform)."""
    rng = np.random.default_rng(1)
    m = rng.standard_normal((n_rows, dim)).astype(np.float32)
    ids = zipf_ids(n_rows, fetches, rng) if zipf else rng.integers(0, n_rows, fetches).astype(np.int64)
    nxt = rng.permutation(n_rows).astype(np.int64)
    out = np.zeros(dim, np.float32)
    _independent_rows(m, ids[:10], out)
    _chained_rows(m, nxt, 10, out)
    independent = fetches / _best_of(lambda: _independent_rows(m, ids, out), runs=3)
    chain_steps = fetches // 4
    latency = _best_of(lambda: _chained_rows(m, nxt, chain_steps, out), runs=3) / chain_steps
    return independent, latency


@dataclass
class Machine:
    """The probe's figures for one core."""

    cpu: str
    dim: int
    gflops: float  # the dot + axpy pattern, one core
    rows_per_s: dict  # size label -> random rows read per second, independent loads
    row_latency_ns: dict  # size label -> ns per chained row
    sizes_mib: dict  # size label -> the matrix's MiB


def probe(dim: int, vocab: int) -> Machine:
    sizes = {"L2": 256 * 1024, "L3": 8 * 2**20, "model": 2 * vocab * dim * FLOAT_BYTES}
    rates, latencies = {}, {}
    for label, size in sizes.items():
        rates[label], latency = row_rates(max(size // (dim * FLOAT_BYTES), 16), dim)
        latencies[label] = latency * 1e9
    sizes["model, Zipf"] = sizes["model"]
    rates["model, Zipf"], _ = row_rates(2 * vocab, dim, zipf=True)
    latencies["model, Zipf"] = float("nan")
    return Machine(
        cpu=cpu_model(),
        dim=dim,
        gflops=flops_per_second(dim) / 1e9,
        rows_per_s=rates,
        row_latency_ns=latencies,
        sizes_mib={k: v / 2**20 for k, v in sizes.items()},
    )


@dataclass
class CenterCost:
    """One trainer's work per center word: flops, and the rows it fetches from beyond the core's caches (each read,
    then written back)."""

    trainer: str
    flops: float
    rows: float


def center_costs(dim: int, negative: int, contexts: float) -> list[CenterCost]:
    """Per center, with ``contexts`` context words on average (2 x the mean reach) and ``negative`` negatives.

    Flops: a (context, target) step is a dot, the gradient's axpy into the input's update and the target row's axpy
    (6 dim flops); the input's update is one more axpy (2 dim). Skip-gram trains ``contexts`` pairs, each against
    the center's output row and ``negative`` negatives. CBOW sums the window's input rows (dim flops each), scales
    the sum (dim), trains it against negative + 1 output rows, and adds the error to every window row (2 dim each).

    Rows fetched: the rows a center needs that the centers before it did not leave in the caches. Its window's input
    rows are its neighbours' too: one new row enters per center. The center's output row stays in L1 across its
    pairs. The negatives are new rows: one set per pair with per-pair negatives, one per center with shared
    negatives and in CBOW."""
    targets = negative + 1
    pair_flops = 6 * dim * targets + 2 * dim
    return [
        CenterCost(SG_PER_PAIR, contexts * pair_flops, 2 + contexts * negative),
        CenterCost(SG_SHARED, contexts * pair_flops, 2 + negative),
        CenterCost(CBOW, 3 * dim * contexts + dim + 6 * dim * targets, 2 + negative),
    ]


@dataclass
class CorpusShape:
    """What a corpus gives the trainers per token: counted, not assumed."""

    tokens: int  # in-vocabulary tokens (the words of words/s)
    keep: float  # the share of them kept after sub-sampling: the centers
    contexts: float  # the mean number of contexts of a kept center (skip-gram pairs per kept token)


def corpus_shape(corpus, window: int = 5, sample: float = 1e-3, seed: int = 1, chunk_tokens: int = 1 << 20):
    """``corpus``'s ``CorpusShape`` in epoch 0, chunk by chunk as hogwild trains it: fastw2v's own sub-sampling and
    shrunk windows (``windowed_chunk``, the same draws), so the counts are the trainers' exactly."""
    from fastw2v.draws import keep_thresholds
    from fastw2v.windows import windowed_chunk

    thresholds = keep_thresholds(corpus.vocab.counts, sample)
    bounds = corpus.chunk_bounds(chunk_tokens)
    kept = pairs = 0
    for c in range(bounds.shape[0] - 1):
        ids, starts = corpus.chunk(bounds, c)
        chunk_kept, _, pair_offsets, _ = windowed_chunk(ids, starts, thresholds, window, True, seed, 0, c)
        kept, pairs = kept + chunk_kept.shape[0], pairs + int(pair_offsets[-1])
    return CorpusShape(tokens=int(corpus.n_tokens), keep=kept / max(corpus.n_tokens, 1), contexts=pairs / max(kept, 1))


def words_per_s_bound(cost: CenterCost, gflops: float, rows_per_s: float, keep: float, threads: int) -> float:
    """The words/s (tokens before sub-sampling) that ``threads`` cores allow a trainer of ``cost`` per center, at
    ``gflops`` and ``rows_per_s`` a core, ``keep`` of the tokens being centers: the slower of flops and rows."""
    per_center = max(cost.flops / (gflops * 1e9), cost.rows / rows_per_s)
    return threads / (keep * per_center)


def machine_bound(machine: Machine, cost: CenterCost, keep: float, threads: int) -> float:
    """``words_per_s_bound`` at the probe's rates: its arithmetic and its Zipfian rows at the model's size."""
    return words_per_s_bound(cost, machine.gflops, machine.rows_per_s["model, Zipf"], keep, threads)


def share_of_bound(words_per_s: float | None, bound: float | None) -> float | None:
    """A measured words/s over its bound (0.5: half the roofline); None without either."""
    return words_per_s / bound if words_per_s and bound else None


def bounds(machine: Machine, costs: list[CenterCost], keep: float, threads: int) -> list[dict]:
    """Each trainer's words/s bound on ``threads`` cores: raw tokens/s, ``keep`` of them centers after sampling."""
    flops_per_s = machine.gflops * 1e9
    rows_per_s = machine.rows_per_s["model, Zipf"]
    out = []
    for cost in costs:
        compute, memory = cost.flops / flops_per_s, cost.rows / rows_per_s
        out.append(
            dict(
                trainer=cost.trainer,
                flops_per_center=cost.flops,
                rows_per_center=cost.rows,
                compute_ns=compute * 1e9,
                memory_ns=memory * 1e9,
                bound="compute" if compute >= memory else "memory",
                words_per_s=machine_bound(machine, cost, keep, threads),
            )
        )
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.roofline", description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus", default=None, help="the corpus counted (default: the runner's, ../shared/data/imdb when present)"
    )
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--vocab", type=int, default=None, help="words of the model (default: the corpus's)")
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3, help="the sub-sampling threshold the keep rate is counted at")
    p.add_argument("--keep", type=float, default=None, help="share of tokens kept by sub-sampling (default: counted)")
    p.add_argument("--contexts", type=float, default=None, help="mean contexts of a kept center (default: counted)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write the figures here, opening with command, commit, machine and date")
    return p


def settings(args) -> tuple[int, float, float, CorpusShape | None]:
    """The vocabulary, keep rate and contexts a center of ``args``: counted on the corpus where not given."""
    shape = None
    if args.vocab is None or args.keep is None or args.contexts is None:
        corpus = common.full_corpus(args.corpus)
        shape = corpus_shape(corpus, args.window, args.sample)
        args.vocab = len(corpus.vocab) if args.vocab is None else args.vocab
    keep = shape.keep if args.keep is None else args.keep
    contexts = shape.contexts if args.contexts is None else args.contexts
    return args.vocab, keep, contexts, shape


def print_machine(machine: Machine) -> None:
    print(f"{machine.cpu} ({platform.machine()}), one core, d={machine.dim}")
    print(f"arithmetic (dot + 2 axpy, rows in L1): {machine.gflops:.1f} GFLOP/s")
    for label in machine.rows_per_s:
        print(
            f"random rows, {label:11s} ({machine.sizes_mib[label]:7.1f} MiB): "
            f"{machine.rows_per_s[label] / 1e6:6.1f}M rows/s independent"
            + ("" if np.isnan(machine.row_latency_ns[label]) else f", {machine.row_latency_ns[label]:6.1f} ns chained")
        )


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    head = common.results_header(["python", "-m", "benchmarks.roofline", *argv])  # before the run: its commit
    vocab, keep, contexts, shape = settings(args)
    machine = probe(args.dim, vocab)
    rows = bounds(machine, center_costs(args.dim, args.negative, contexts), keep, args.threads)
    print_machine(machine)
    counted = f"counted on {shape.tokens:,} tokens" if shape else "given"
    print(f"\nper center: {contexts:.2f} contexts, {args.negative} negatives, {keep:.1%} of tokens kept ({counted})")
    print(f"{'trainer':32s} {'kflops':>7s} {'rows':>5s} {'compute':>9s} {'memory':>9s}  {'bound':7s} {'words/s':>8s}")
    for r in rows:
        print(
            f"{r['trainer']:32s} {r['flops_per_center'] / 1e3:7.1f} {r['rows_per_center']:5.0f} "
            f"{r['compute_ns']:7.0f}ns {r['memory_ns']:7.0f}ns  {r['bound']:7s} {r['words_per_s'] / 1e6:7.2f}M"
        )
    if args.json:
        corpus = None if shape is None else dict(asdict(shape), description=common.full_corpus(args.corpus).description)
        out = dict(**head, probe=asdict(machine), settings=vars(args), keep=keep, contexts=contexts, corpus=corpus)
        with open(args.json, "w") as f:
            json.dump(dict(out, bounds=rows), f, indent=1)


if __name__ == "__main__":
    main()
