"""The side-by-side runner: every pipeline and trainer on one token stream, one markdown table.

    python -m benchmarks                      # IMDB (../shared/data/imdb), median of 3 runs, ~10-15 min on 2 cores
    python -m benchmarks --quick              # smaller slices, 1 run each, fewer rows: under 2 minutes
    python -m benchmarks --profile            # plus where the time goes (NumbaBatches stages, torch sgd step)
    python -m benchmarks --device cuda        # plus the CUDA group: torch words/s for batch sizes 2^14..2^20
    python -m benchmarks --corpus FILE_OR_DIR --repeat 5 --out results.json
    python -m benchmarks --rows hogwild,corpus_file,word2vec.c --rounds 3 --repeat 2   # ratios robust to drift

No asv environment machinery: each row runs in a fresh ``python -m benchmarks --_row ...`` subprocess (its
repeats inside it, after one untimed setup), so a row's peak RSS (VmHWM of that process; the
tutorial's DataLoader workers reported apart) and its warm caches never leak into another row. The rate is
the median of the repeats. With ``--rounds N`` the whole list of rows runs N times in turn and each row's
rate is the median over all its rounds: a machine whose speed drifts over minutes then slows every row
alike, instead of whichever rows ran during a slow spell. Slow rows (the tutorial's pipeline and loop, torch on the CPU) run on a slice of
the corpus, or a fixed number of batches, and are scaled to a rate; the table's ``tokens`` column says which.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time

from .benchmarks import common

PIPELINE, TRAINING, CUDA = "pipeline (pairs/s)", "training (words/s)", "cuda training (words/s)"
ROW_TIMEOUT = 600
INGEST, MEMORY = "ingest (tokens/s)", "memory vs corpus size (peak anon MiB)"
DISTRIBUTED = "distributed training, torchrun (words/s of the whole job)"
LARGE_VOCAB = "large vocabulary (Zipf, 1.05M words)"
CBOW = "CBOW training (words/s)"
HS = "hierarchical softmax training, hs=1 negative=0 (words/s)"


def plan(args) -> list[dict]:
    """The rows: (group, label, workload, kwargs, tokens). Sizes keep a full run under ~10 minutes on 2 idle
    cores (~20 when other work shares them) and --quick under 2 minutes."""
    q = args.quick
    threads = common.cpu_count()
    tut_tokens = 20_000  # the tutorial's pair list is ~65 bytes a pair: a slice, timed over fixed batches
    pipe_tokens = 1_000_000 if q else 5_000_000
    dev_tokens = 100_000 if q else 500_000  # DeviceBatches on the CPU: ~1M pairs/s
    torch_tokens = 20_000 if q else 100_000  # torch training on the CPU: ~40k words/s
    fast_tokens = 500_000 if q else 2_000_000  # hogwild, gensim, word2vec.c
    rows = [
        (
            PIPELINE,
            "tutorial DataLoader(SkipGramDataset), B=512, 2 workers",
            "tutorial_pipeline",
            dict(n_batches=8 if q else 30),
            tut_tokens,
        ),
        (
            PIPELINE,
            f"NumbaBatches B=16384, {threads} threads",
            "pipeline",
            dict(kind="numba", batch_size=16384, threads=threads),
            pipe_tokens,
        ),
        (
            PIPELINE,
            "NumbaBatches B=16384, 1 thread",
            "pipeline",
            dict(kind="numba", batch_size=16384, threads=1),
            pipe_tokens,
        ),
        (
            PIPELINE,
            f"NumbaBatches B=512, {threads} threads",
            "pipeline",
            dict(kind="numba", batch_size=512, threads=threads),
            pipe_tokens,
        ),
        (
            PIPELINE,
            "DeviceBatches cpu, B=16384",
            "pipeline",
            dict(kind="device", batch_size=16384, device="cpu"),
            dev_tokens,
        ),
        (
            TRAINING,
            "tutorial train() (DataLoader + Adam), B=512",
            "tutorial_training",
            dict(n_batches=3 if q else 12),
            tut_tokens,
        ),
        (
            TRAINING,
            "fastw2v torch cpu, sgd (fused step), B=16384",
            "fastw2v_training",
            dict(backend="torch", optimizer="sgd", threads=threads),
            torch_tokens,
        ),
        (
            TRAINING,
            "fastw2v torch cpu, sgd (fused step), B=16384, 1 thread",
            "fastw2v_training",
            dict(backend="torch", optimizer="sgd", threads=1),
            torch_tokens,
        ),
        (
            TRAINING,
            "fastw2v torch cpu, adam, B=16384",
            "fastw2v_training",
            dict(backend="torch", optimizer="adam", threads=threads),
            torch_tokens,
        ),
        (
            TRAINING,
            "fastw2v torch cpu, sparse_adam, B=16384",
            "fastw2v_training",
            dict(backend="torch", optimizer="sparse_adam", threads=threads),
            torch_tokens,
        ),
        (
            TRAINING,
            f"fastw2v hogwild, {threads} threads",
            "fastw2v_training",
            dict(backend="hogwild", threads=threads),
            fast_tokens,
        ),
        (TRAINING, "fastw2v hogwild, 1 thread", "fastw2v_training", dict(backend="hogwild", threads=1), fast_tokens),
        (
            TRAINING,
            f"fastw2v hogwild, {threads} threads, the 8 x 8 buckets of a job in turn",
            "fastw2v_training",
            dict(backend="hogwild", threads=threads, as_ranks=8),
            fast_tokens,
        ),
        (
            TRAINING,
            f"fastw2v hogwild, {threads} threads, a checkpoint at the end",
            "fastw2v_training",
            dict(backend="hogwild", threads=threads, checkpoint=True),
            fast_tokens,
        ),
        (
            TRAINING,
            f"fastw2v hogwild, per-pair negatives, {threads} threads",
            "fastw2v_training",
            dict(backend="hogwild", threads=threads, shared_negatives=False),
            fast_tokens,
        ),
        (
            TRAINING,
            "fastw2v hogwild, per-pair negatives, 1 thread",
            "fastw2v_training",
            dict(backend="hogwild", threads=1, shared_negatives=False),
            fast_tokens,
        ),
        (
            DISTRIBUTED,
            "fastw2v hogwild, 2 processes (torchrun, gloo), threads shared",
            "distributed",
            dict(ranks=2, backend="hogwild"),
            fast_tokens,
        ),
        (
            DISTRIBUTED,
            "fastw2v torch cpu, sgd, 2 processes (torchrun, gloo)",
            "distributed",
            dict(ranks=2, backend="torch"),
            torch_tokens,
        ),
        (
            DISTRIBUTED,
            f"{LARGE_VOCAB}: fastw2v hogwild, one process, {threads} threads",
            "large_vocab",
            dict(ranks=1),
            None,
        ),
        (
            DISTRIBUTED,
            f"{LARGE_VOCAB}: fastw2v hogwild, 2 processes (torchrun, gloo)",
            "large_vocab",
            dict(ranks=2),
            None,
        ),
        (
            TRAINING,
            f"gensim 4 corpus_file, {threads} workers",
            "gensim",
            dict(mode="corpus_file", workers=threads),
            fast_tokens,
        ),
        (TRAINING, "gensim 4 corpus_file, 1 worker", "gensim", dict(mode="corpus_file", workers=1), fast_tokens),
        (
            TRAINING,
            f"gensim 4 iterable, {threads} workers",
            "gensim",
            dict(mode="iterable", workers=threads),
            fast_tokens,
        ),
        (TRAINING, f"word2vec.c, {threads} threads", "word2vec_c", dict(threads=threads), fast_tokens),
        (
            CBOW,
            f"fastw2v hogwild CBOW, {threads} threads",
            "fastw2v_training",
            dict(backend="hogwild", threads=threads, sg=0),
            fast_tokens,
        ),
        (
            CBOW,
            "fastw2v hogwild CBOW, 1 thread",
            "fastw2v_training",
            dict(backend="hogwild", threads=1, sg=0),
            fast_tokens,
        ),
        (
            CBOW,
            f"gensim 4 CBOW corpus_file, {threads} workers",
            "gensim",
            dict(mode="corpus_file", workers=threads, sg=0),
            fast_tokens,
        ),
        (
            CBOW,
            f"gensim 4 CBOW iterable, {threads} workers",
            "gensim",
            dict(mode="iterable", workers=threads, sg=0),
            fast_tokens,
        ),
        (
            CBOW,
            f"word2vec.c CBOW (-cbow 1), {threads} threads",
            "word2vec_c",
            dict(threads=threads, cbow=1),
            fast_tokens,
        ),
    ]
    for sg, model in ((1, "skip-gram"), (0, "CBOW")):
        rows += [
            (
                HS,
                f"fastw2v hogwild hs {model}, {threads} threads",
                "fastw2v_training",
                dict(backend="hogwild", threads=threads, sg=sg, hs=True, negative=0),
                fast_tokens,
            ),
            (
                HS,
                f"gensim 4 hs {model} corpus_file, {threads} workers",
                "gensim",
                dict(mode="corpus_file", workers=threads, sg=sg, hs=1),
                fast_tokens,
            ),
            (
                HS,
                f"gensim 4 hs {model} iterable, {threads} workers",
                "gensim",
                dict(mode="iterable", workers=threads, sg=sg, hs=1),
                fast_tokens,
            ),
        ]
    # Ingest: the corpus's raw text as a .txt file, encoded (both passes); the Python encoder on its first 30 MiB.
    for tok in ("simple", "whitespace"):
        rows.append(
            (
                INGEST,
                f"Python tokenizer + dict (fastw2v 0.1), {tok}",
                "ingest",
                dict(tokenizer=tok, python=True, max_bytes=(8 if q else 30) << 20),
                None,
            )
        )
        for t in sorted({threads, 1}, reverse=True):
            rows.append(
                (
                    INGEST,
                    f"fastw2v.encode, {tok}, {t} thread{'s' if t > 1 else ''}",
                    "ingest",
                    dict(tokenizer=tok, threads=t, max_bytes=(8 << 20) if q else None),
                    None,
                )
            )
    # Memory against size: generated Zipf text (200k types), encoded and trained one epoch; run once each.
    sizes = [(5_000_000, 200), (5_000_000, 0)] if q else [(20_000_000, 200), (20_000_000, 0)]
    if args.large:
        sizes += [(300_000_000, 200), (50_000_000, 200), (50_000_000, 0)]
    for n, line in sizes:
        shape = f"lines of {line} tokens" if line else "one line"
        rows.append(
            (
                MEMORY,
                f"generated, {n / 1e6:.0f}M tokens, {shape}",
                "memory",
                dict(n_tokens=n, line_tokens=line, threads=threads),
                None,
            )
        )
    if q:  # the quick run keeps one row per implementation
        drop = {
            "NumbaBatches B=16384, 1 thread",
            "fastw2v hogwild, 1 thread",
            "gensim 4 corpus_file, 1 worker",
            f"fastw2v hogwild, {threads} threads, the 8 x 8 buckets of a job in turn",
            f"fastw2v hogwild, {threads} threads, a checkpoint at the end",
            "fastw2v hogwild, per-pair negatives, 1 thread",
            "fastw2v torch cpu, sparse_adam, B=16384",
            "fastw2v torch cpu, adam, B=16384",
            "fastw2v torch cpu, sgd (fused step), B=16384, 1 thread",
            f"gensim 4 iterable, {threads} workers",
            "fastw2v.encode, simple, 1 thread",
            f"{LARGE_VOCAB}: fastw2v hogwild, one process, {threads} threads",
            f"{LARGE_VOCAB}: fastw2v hogwild, 2 processes (torchrun, gloo)",
            "fastw2v.encode, whitespace, 1 thread",
        }
        rows = [r for r in rows if r[1] not in drop]
    if args.device.startswith("cuda"):
        rows.append(
            (
                PIPELINE,
                "DeviceBatches cuda, B=2^20",
                "pipeline",
                dict(kind="device", batch_size=1 << 20, device=args.device),
                None,
            )
        )
        for e in range(14, 21, 2 if q else 1):  # the fused Triton step beside torch's ops, batch by batch size
            for kernel in ("triton", "torch"):
                rows.append(
                    (
                        CUDA,
                        f"fastw2v torch {args.device}, sgd {kernel} step, B=2^{e}",
                        "fastw2v_training",
                        dict(
                            backend="torch", optimizer="sgd", device=args.device, batch_size=1 << e, sgd_kernel=kernel
                        ),
                        None,
                    )
                )
    return [dict(group=g, label=label, workload=w, kwargs=kw, tokens=t) for g, label, w, kw, t in rows]


# ---------------------------------------------------------------------------------------------------
# One row, inside its own subprocess


def run_row(spec: dict, corpus_arg: str | None, repeat: int) -> dict:
    from .benchmarks import workloads as W

    kw = dict(spec["kwargs"])
    w = spec["workload"]
    if w in ("ingest", "memory", "large_vocab"):  # text in, not the encoded token stream
        run = (
            W.prepare_ingest(corpus_arg, **kw)
            if w == "ingest"
            else W.prepare_memory(**kw)
            if w == "memory"
            else W.prepare_large_vocab(**kw)
        )
        rates = [run() for _ in range(1 if w == "memory" else repeat)]
        return dict(
            rates=[r.value for r in rates],
            unit=rates[0].unit,
            work=rates[0].work,
            seconds=[r.seconds for r in rates],
            note=rates[0].note,
            tokens=int(rates[0].work),
            maxrss_mib=common.peak_rss_mib(),
            children_maxrss_mib=0,
        )
    c = common.corpus(corpus_arg, spec["tokens"])
    if w == "gensim":
        run = W.prepare_gensim(c, common.text_file(corpus_arg, spec["tokens"]), **kw)
    elif w == "word2vec_c":
        run = W.prepare_word2vec_c(c, common.text_file(corpus_arg, spec["tokens"]), **kw)
    else:
        run = getattr(W, f"prepare_{w}")(c, **kw)
    rates = [run() for _ in range(repeat)]
    return dict(
        rates=[r.value for r in rates],
        unit=rates[0].unit,
        work=rates[0].work,
        seconds=[r.seconds for r in rates],
        note=rates[0].note,
        tokens=c.n_tokens,
        maxrss_mib=common.peak_rss_mib(),
        children_maxrss_mib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def measure(spec: dict, args) -> dict:
    cmd = [sys.executable, "-m", "benchmarks", "--_row", json.dumps(spec), "--repeat", str(args.repeat)]
    if args.corpus:
        cmd += ["--corpus", args.corpus]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=common.REPO, timeout=args.row_timeout)
    except subprocess.TimeoutExpired:  # one slow row must not lose the others (or the other rounds)
        return dict(
            spec,
            wall_s=time.perf_counter() - start,
            skipped=f"timed out after {args.row_timeout:.0f} s (--row-timeout)",
        )
    result = dict(spec, wall_s=time.perf_counter() - start)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and lines:
        result.update(json.loads(lines[-1]))
    else:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        if tail.startswith("benchmarks.benchmarks.common.Skip: "):  # a workload that cannot run here
            tail = tail.split(": ", 1)[1]
        result["skipped"] = tail[:160]
    return result


def merge_rounds(a: dict, b: dict) -> dict:
    """One row's results over two rounds: the runs side by side, the larger peak RSS, the summed wall time. A
    row skipped in one round keeps the runs of the other, and counts the round in ``skipped_rounds`` (the
    table shows it: its median then misses a round's share of the machine's drift)."""
    if "rates" not in a or "rates" not in b:
        kept = a if "rates" in a else b
        return dict(kept, skipped_rounds=a.get("skipped_rounds", 0) + b.get("skipped_rounds", 0) + 1)
    out = dict(a, rates=a["rates"] + b["rates"], seconds=a["seconds"] + b["seconds"], wall_s=a["wall_s"] + b["wall_s"])
    for k in ("maxrss_mib", "children_maxrss_mib"):
        out[k] = max(a[k], b[k])
    return out


# ---------------------------------------------------------------------------------------------------
# The table


def machine() -> dict:
    import numba
    import numpy
    import torch

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = dict(
        cpu=cpu,
        cores=common.cpu_count(),
        python=platform.python_version(),
        torch=torch.__version__,
        numba=numba.__version__,
        numpy=numpy.__version__,
        gensim=None,
        gpu=None,
        numba_threading_layer=None,
        load_average=os.getloadavg(),
    )
    if common.has_module("gensim"):
        import gensim

        info["gensim"] = gensim.__version__
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _fmt(x: float) -> str:
    if x != x:
        return "-"
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g}{suffix}" if x / div < 100 else f"{x / div:.0f}{suffix}"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    r = a / b
    return f"{r:,.0f}×" if r >= 100 else f"{r:.3g}×"


def table(results: list[dict], info: dict, args) -> str:
    rate = {r["label"]: statistics.median(r["rates"]) for r in results if "rates" in r}
    naive = {
        PIPELINE: next((v for k, v in rate.items() if k.startswith("tutorial DataLoader")), None),
        TRAINING: next((v for k, v in rate.items() if k.startswith("tutorial train")), None),
    }
    naive[CUDA] = naive[TRAINING]
    naive[MEMORY] = next((rate.get(r["label"]) for r in results if r["group"] == MEMORY), None)  # the first size

    threads = common.cpu_count()

    def baseline(r: dict) -> float | None:
        if r["group"] == INGEST:  # the Python encoder with the same tokenizer
            return rate.get(f"Python tokenizer + dict (fastw2v 0.1), {r['kwargs']['tokenizer']}")
        if r["workload"] == "large_vocab":  # one process on all the cores, the same text
            return rate.get(f"{LARGE_VOCAB}: fastw2v hogwild, one process, {threads} threads")
        if r["group"] == DISTRIBUTED:  # one process of the same backend on all the cores
            return rate.get(
                f"fastw2v hogwild, {threads} threads"
                if r["kwargs"]["backend"] == "hogwild"
                else "fastw2v torch cpu, sgd (fused step), B=16384"
            )
        return naive.get(r["group"])

    gensim = rate.get(f"gensim 4 corpus_file, {threads} workers")
    w2v = rate.get(f"word2vec.c, {threads} threads")
    cbow_gensim, cbow_w2v = (
        rate.get(f"gensim 4 CBOW corpus_file, {threads} workers"),
        rate.get(f"word2vec.c CBOW (-cbow 1), {threads} threads"),
    )
    out = [
        "| group | implementation | tokens | median rate | runs (min–max) | × baseline | × gensim corpus_file "
        "| × word2vec.c | peak RSS MiB |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        if "rates" not in r:
            out.append(f"| {r['group']} | {r['label']} | - | skipped: {r['skipped']} | | | | | |")
            continue
        med = statistics.median(r["rates"])
        spread = f"{len(r['rates'])} ({_fmt(min(r['rates']))}–{_fmt(max(r['rates']))})"
        if r.get("skipped_rounds"):
            spread += f"; {r['skipped_rounds']} round(s) skipped"
        rss = f"{r['maxrss_mib']:.0f}"
        if r["workload"].startswith("tutorial"):
            rss += f" + workers {r['children_maxrss_mib']:.0f}"
        tokens = f"{r['tokens']:,}" + (f" ({r['note']})" if r["note"] else "")
        words = r["unit"] == "words/s"
        g, w = (cbow_gensim, cbow_w2v) if r["group"] == CBOW else (gensim, w2v)  # CBOW rows against CBOW
        if r["group"] == HS:  # against gensim's hs of the same model
            model = "skip-gram" if r["kwargs"].get("sg", 1) else "CBOW"
            g, w = rate.get(f"gensim 4 hs {model} corpus_file, {threads} workers"), None
        out.append(
            f"| {r['group']} | {r['label']} | {tokens} | {_fmt(med)} {r['unit']} | {spread} "
            f"| {_ratio(med, baseline(r))} | {_ratio(med, g) if words else '-'} "
            f"| {_ratio(med, w) if words else '-'} | {rss} |"
        )
    head = [
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, torch {info['torch']}, "
        f"numba {info['numba']} ({info.get('numba_threading_layer') or '?'}), numpy {info['numpy']}, "
        f"gensim {info['gensim']}; GPU: {info['gpu'] or 'none'}. "
        f"Load average at start {info['load_average'][0]:.1f}, at end {info.get('load_average_end', (0,))[0]:.1f}.",
        f"Corpus: {results[0].get('corpus_description', '') if results else '-'}. Settings: skip-gram, negative 5, window 5, dim 100, "
        "sample 1e-3, min_count 5 (applied at encoding), 1 epoch; the CBOW rows: CBOW, the mean of the window, "
        "against gensim's and word2vec.c's CBOW. Rates: median of the runs; "
        "words/s = in-vocabulary tokens before sub-sampling per second of training. × baseline: against the "
        "tutorial (pipeline, training), the Python encoder with the same tokenizer (ingest: the corpus's raw "
        "text as .txt, both passes), the first size (memory), one process of the same backend on all cores "
        "(distributed).",
        "",
    ]
    return "\n".join(head + out)


# ---------------------------------------------------------------------------------------------------
# Where the time goes


def profile_numba(c, threads_list=(1, 2)) -> str:
    """NumbaBatches' stages timed one by one, as _chunk_pairs and negatives call them."""
    import numpy as np

    from fastw2v import NumbaBatches
    from fastw2v import kernels as K
    from fastw2v.batching import numba_threads

    lines = [
        "| threads | subsample | count_pairs | pairs + shuffle | negatives | batching (Python, torch) "
        "| epoch | pairs/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for threads in threads_list:
        b = NumbaBatches(c, batch_size=16384, threads=threads)
        for i, _ in enumerate(b):  # warm-up
            if i == 2:
                break
        b.set_epoch(0)
        start = time.perf_counter()
        pairs = sum(center.shape[0] for center, _, _ in b)
        epoch = time.perf_counter() - start
        t = dict(sub=0.0, count=0.0, pairs=0.0, neg=0.0)
        with numba_threads(threads):
            for ch in range(b.n_chunks):
                ids, starts = b._chunk(ch)
                t0 = time.perf_counter()
                kept, ks = K.subsample(ids, starts, b.keep_threshold, b._base(0, K.STREAM_SUBSAMPLE, ch))
                t1 = time.perf_counter()
                K.count_pairs(ks, b.window, True, b._base(0, K.STREAM_WINDOW, ch))
                t2 = time.perf_counter()
                center, _ = K.skipgram_pairs_shuffled(
                    kept, ks, b.window, True, b._base(0, K.STREAM_WINDOW, ch), b._base(0, K.STREAM_SHUFFLE, ch)
                )
                t3 = time.perf_counter()
                for first in range(0, center.shape[0], b.NEGATIVE_ROWS):
                    out = np.empty((min(b.NEGATIVE_ROWS, center.shape[0] - first), 5), dtype=np.int64)
                    K.draw_negatives(b.alias_table, 1, 2, first, out)
                t4 = time.perf_counter()
                for k, v in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                    t[k] += v
        rest = epoch - sum(t.values())
        lines.append(
            f"| {threads} | {t['sub']:.2f} s | {t['count']:.2f} s | {t['pairs']:.2f} s | {t['neg']:.2f} s "
            f"| {max(rest, 0):.2f} s | {epoch:.2f} s | {_fmt(pairs / epoch)} |"
        )
    return "\n".join(lines)


def profile_torch(c, device: str = "cpu", batch_size: int = 16384, steps: int = 20, threads: int | None = None) -> str:
    """torch.profiler over ``steps`` fused sgd steps (batches made beforehand), plus the batch/step split."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        return _profile_torch(c, device, batch_size, steps)
    finally:
        torch.set_num_threads(before)


def _profile_torch(c, device, batch_size, steps):
    import torch
    from torch.profiler import ProfilerActivity, profile

    from fastw2v import NumbaBatches
    from fastw2v.model import SkipGramNS

    torch.manual_seed(1)
    model = SkipGramNS(len(c.vocab), 100).to(device)
    batches = []
    start = time.perf_counter()
    for i, batch in enumerate(NumbaBatches(c, batch_size=batch_size)):
        batches.append(tuple(t.to(device) for t in batch))
        if i + 1 == steps + 3:
            break
    make = (time.perf_counter() - start) / len(batches)
    for batch in batches[:3]:
        model.sgd_step(*batch, lr=0.025)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        for batch in batches[3:]:
            model.sgd_step(*batch, lr=0.025)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        step = (time.perf_counter() - start) / (len(batches) - 3)
    key = "self_cuda_time_total" if device.startswith("cuda") else "self_cpu_time_total"
    summary = prof.key_averages().table(sort_by=key, row_limit=12, max_name_column_width=40)
    return (
        f"batch of {batch_size} pairs: NumbaBatches {make * 1e3:.1f} ms, sgd_step {step * 1e3:.1f} ms "
        f"(torch threads {torch.get_num_threads()}, V={len(c.vocab)})\n```\n{summary}```"
    )


def profile_device_loop(c, device: str, batch_size: int = 1 << 16, steps: int = 200) -> str:
    """torch.profiler over the whole device loop (DeviceBatches + sgd_step), and how busy the GPU was: when
    the kernels' summed time is far below the wall time, the loop is bound by the host (Python, launches)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from fastw2v import DeviceBatches
    from fastw2v.model import SkipGramNS

    torch.manual_seed(1)
    model = SkipGramNS(len(c.vocab), 100).to(device)
    batches = DeviceBatches(c, device=device, batch_size=batch_size)

    def run(n):
        pairs = 0
        for i, (center, pos, negs) in enumerate(batches):
            model.sgd_step(center, pos, negs, lr=0.025)
            pairs += center.shape[0]
            if i + 1 == n:
                break
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return pairs

    run(20)  # warm-up
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        pairs = run(steps)
        wall = time.perf_counter() - start
    events = prof.key_averages()
    # the kernels' own rows (device_type CUDA); the ops that launched them carry the same time again
    busy = sum(e.self_device_time_total for e in events if str(e.device_type).endswith("CUDA")) / 1e6  # us -> s
    summary = events.table(sort_by="self_device_time_total", row_limit=15, max_name_column_width=40)
    return (
        f"{steps} batches of {batch_size} pairs (chunks of 2^20 tokens; profiler on): wall {wall * 1e3 / steps:.2f} ms "
        f"a batch, GPU kernels {busy * 1e3 / steps:.2f} ms a batch ({100 * busy / wall:.0f}% busy), "
        f"{pairs / wall / 1e6:.1f}M pairs/s\n```\n{summary}```"
    )


# ---------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--corpus",
        default=None,
        help="dataset folder or text file (default: ../shared/data/imdb; a generated Zipf corpus when absent)",
    )
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N: adds the CUDA rows")
    p.add_argument("--quick", action="store_true", help="small slices, 1 run, one row per implementation")
    p.add_argument("--repeat", type=int, default=None, help="runs per row (default 3; 1 with --quick)")
    p.add_argument("--out", default=None, help="also write the results as JSON here")
    p.add_argument("--profile", action="store_true", help="add where the time goes (NumbaBatches, sgd step)")
    p.add_argument(
        "--rows",
        default=None,
        help="only rows whose label contains this text (or one of these, comma-separated: hogwild,word2vec.c)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the list of rows this many times in turn (each row's repeats per round); the rate is "
        "the median over all rounds, so slow spells of the machine hit every row alike",
    )
    p.add_argument(
        "--row-timeout", type=float, default=ROW_TIMEOUT, help="seconds before a row is given up (--large: 3600)"
    )
    p.add_argument(
        "--large",
        action="store_true",
        help="add the large memory rows: 300M tokens and a 50M-token "
        "line against 50M in lines (~30 min more on 2 cores, ~2 GB of temporary text)",
    )
    p.add_argument("--_row", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.large and args.row_timeout == ROW_TIMEOUT:
        args.row_timeout = 3600  # the 300M-token row takes ~15 minutes on 2 cores
    if args.rounds < 1 or args.repeat < 1:
        p.error(f"--rounds {args.rounds} --repeat {args.repeat}: both must be 1 or more")
    if args._row:
        print(json.dumps(run_row(json.loads(args._row), args.corpus, args.repeat)))
        return 0
    if args.device.startswith("cuda") and not common.cuda_available():
        print("--device cuda: no CUDA GPU here; the CUDA rows are skipped", file=sys.stderr)
        args.device = "cpu"

    started = time.perf_counter()
    info = machine()
    full = common.full_corpus(args.corpus)  # encode once (cached) before the rows start
    import numba
    import numpy as np

    from fastw2v import kernels as K

    K.count_pairs(np.array([0, 3]), 5, True, 1)  # a parallel kernel, so that numba picks its threading layer
    info["numba_threading_layer"] = numba.threading_layer()
    wanted = [w.strip() for w in (args.rows or "").split(",") if w.strip()]
    rows = [r for r in plan(args) if not wanted or any(w in r["label"] for w in wanted)]
    results = [None] * len(rows)
    for round_ in range(args.rounds):
        for i, spec in enumerate(rows):
            r = measure(spec, args)
            r["corpus_description"] = full.description
            results[i] = r if results[i] is None else merge_rounds(results[i], r)
            r = results[i]
            status = (
                f"{_fmt(statistics.median(r['rates']))} {r['unit']}" if "rates" in r else f"skipped: {r['skipped']}"
            )
            where = f" (round {round_ + 1}/{args.rounds})" if args.rounds > 1 else ""
            print(
                f"[{time.perf_counter() - started:5.0f}s] {spec['label']}{where}: {status}", file=sys.stderr, flush=True
            )
    info["load_average_end"] = os.getloadavg()
    text = table(results, info, args)
    print(text, flush=True)
    profiles = {}
    if args.profile:
        text += "\n\nWhere the time goes"
        if any("cuda" not in r["label"] for r in rows):  # the CPU profiles, unless only CUDA rows were asked for
            c = common.corpus(args.corpus, 1_000_000 if args.quick else 5_000_000)  # the pipeline rows' slice
            profiles["numba"] = profile_numba(c)
            profiles["torch_cpu"] = profile_torch(common.corpus(args.corpus, 200_000), "cpu")
            profiles["torch_cpu_1thread"] = profile_torch(common.corpus(args.corpus, 200_000), "cpu", threads=1)
            text += "\n\nNumbaBatches stages (B=16384), one epoch of the pipeline slice\n\n" + profiles["numba"]
            text += "\n\nThe torch CPU sgd step (torch.profiler, 20 steps)\n\n" + profiles["torch_cpu"]
            text += "\n\nThe same with 1 torch thread\n\n" + profiles["torch_cpu_1thread"]
        if args.device.startswith("cuda"):
            profiles["torch_cuda"] = profile_torch(full, args.device, batch_size=1 << 18, steps=50)
            text += "\n\nThe torch CUDA sgd step (torch.profiler, 50 steps of 2^18)\n\n" + profiles["torch_cuda"]
            for e in (14, 16, 18):
                key = f"cuda_loop_2^{e}"
                profiles[key] = profile_device_loop(full, args.device, batch_size=1 << e, steps=max(50, 2 ** (22 - e)))
                text += f"\n\nThe whole CUDA loop, DeviceBatches + sgd step, B=2^{e}\n\n" + profiles[key]
            from .gpu_fused import profile_training

            for kernel in ("triton", "torch"):  # the training loop as fastw2v.train runs it, with each step
                r = profile_training(full, 1 << 16, kernel, args.device)
                profiles[f"train_{kernel}_2^16"] = r
                text += (
                    f"\n\nfastw2v.train, sgd {kernel} step, B=2^16, 1 epoch (profiler on): {r['words_per_sec'] / 1e6:.1f}M "
                    f"words/s, GPU kernels {100 * r['busy_share']:.0f}% of the training time\n\n```\n{r['table']}```"
                )
        print(text[text.index("\n\nWhere the time goes") :])
    print(
        f"\n(total {time.perf_counter() - started:.0f} s; "
        f"command: python -m benchmarks {shlex.join(argv if argv is not None else sys.argv[1:])})"
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(machine=info, args=vars(args), rows=results, profiles=profiles, table=text), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
