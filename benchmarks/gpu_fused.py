"""The fused SGNS step on one GPU, measured in one process: correctness, words/s beside the torch step, where
the time goes, memory, block shapes and quality.

    python -m benchmarks.gpu_fused --corpus ENCODED_IMDB [--second ENCODED_CORPUS] --out DIR [--parts check,speed,...]

One process, so numba and Triton compile once. Parts, in the order they run (each writes its results to
``DIR/gpu_fused.json`` and a line to stdout as soon as it has them, so a run stopped at its time limit keeps
what it measured):

* ``check``: one batch of IMDB through the Triton kernels and through ``SkipGramNS.sgd_step`` from the same
  matrices: loss and largest difference of the updated matrices; the in-kernel negatives against
  ``DeviceBatches.negatives``;
* ``blocks``: step time of other block shapes (pairs per program, warps) on fixed batches; the best is used
  for the rest of the run;
* ``speed``: ``fastw2v.train`` on all of the corpus, 1 epoch, the defaults (d 100, window 5, k 5, sample 1e-3),
  whole loop timed (batch building included; compiling is not), triton and torch steps in alternating rows,
  for several batch sizes, and d = 300; peak GPU memory of each row;
* ``quality``: analogy accuracy and WS353 rho at 1 and 5 epochs, on IMDB and on ``--second``, several seeds;
* ``memory``: peak GPU memory of a V = 5M, d = 300 model taking fused steps;
* ``profile``: torch.profiler over a training run on the first chunks: GPU busy share and kernel times;

"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

import fastw2v
from fastw2v import fused
from fastw2v.batching import DeviceBatches
from fastw2v.corpus import EncodedCorpus
from fastw2v.evaluate import evaluate_analogies, evaluate_word_pairs
from fastw2v.model import SkipGramNS

from .benchmarks import common

RESULTS: dict = {}
DEVICE = "cuda"  # --device: cpu runs the same parts with TRITON_INTERPRET=1 on small corpora (a smoke test)


def sync() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


def reset_peak() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_mib() -> float:
    return torch.cuda.max_memory_allocated() / 2**20 if DEVICE.startswith("cuda") else float("nan")


def emit(part: str, row: dict, out: str) -> None:
    RESULTS.setdefault(part, []).append(row)
    print(json.dumps({part: row}), flush=True)
    with open(os.path.join(out, "gpu_fused.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)


def check(corpus: EncodedCorpus, out: str, device: str, B: int = 1 << 16) -> None:
    batches = DeviceBatches(corpus, device=device, batch_size=B)
    center, pos, negs = next(iter(batches))
    for trust in (16.0, None, 0.01):
        torch.manual_seed(1)
        ref = SkipGramNS(len(corpus.vocab), 100).to(device)
        with torch.no_grad():  # trained-looking rows, so that scores are not all ~0
            ref.in_embed.weight.normal_(0, 0.3)
            ref.out_embed.weight.normal_(0, 0.3)
        W_in, W_out = ref.in_embed.weight.detach().clone(), ref.out_embed.weight.detach().clone()
        ref_loss = ref.sgd_step(center, pos, negs, 0.025, trust=trust)
        step = fused.FusedStep(W_in, W_out, 5, torch.from_numpy(batches.alias_table))
        loss = torch.zeros((), device=device)
        base_col, base_coin = fused.stream_bases(batches.seed, 0, 0)
        step.step(center, pos, 0.025, trust, loss, draw=(base_col, base_coin, 0))
        sync()
        emit(
            "check",
            dict(
                trust=trust,
                pairs=int(center.shape[0]),
                loss_ref=float(ref_loss),
                loss_fused=float(loss),
                max_diff_in=float((W_in - ref.in_embed.weight).abs().max()),
                max_diff_out=float((W_out - ref.out_embed.weight).abs().max()),
                max_update_in=float((ref.in_embed.weight - W_in).abs().max()),
                negatives_equal=bool(torch.equal(step.negs[: center.shape[0]], negs)),
            ),
            out,
        )


def train_row(corpus, label, repeat_index=0, **settings) -> tuple[dict, fastw2v.Vectors]:
    reset_peak()
    v = fastw2v.train(corpus=corpus, backend="torch", device=DEVICE, progress=False, **settings)
    st = v.stats
    row = dict(
        label=label,
        run=repeat_index,
        words_per_sec=st.words_per_sec,
        seconds=st.seconds,
        pairs=st.examples,
        final_loss=st.final_loss,
        kernel=st.kernel,
        peak_gpu_mib=peak_mib(),
        settings=settings,
        tokens=corpus.n_tokens,
        vocab=len(corpus.vocab),
    )
    return row, v


def speed(corpus, out, repeat: int, exponents) -> None:
    """Alternating rows, so that drift hits both steps alike: triton and torch at 2^16 and 2^18 first."""
    rows = [("triton", 16, 100), ("torch", 16, 100), ("triton", 18, 100), ("torch", 18, 100)]
    rows += [("triton", e, 100) for e in exponents if e not in (16, 18)]
    rows += [("triton", 16, 300), ("triton", 18, 300), ("torch", 18, 300)]
    for r in range(repeat):
        for kernel, e, d in rows:
            if r and kernel == "torch" and d == 300:
                continue
            row, _ = train_row(
                corpus, f"{kernel} B=2^{e} d={d}", r, sgd_kernel=kernel, batch_size=1 << e, vector_size=d, epochs=1
            )
            emit("speed", row, out)


def quality(corpora: dict, out: str, eval_dir: str, seeds, variants) -> None:
    """Every (corpus, epochs) for the first seed of the default, then the variants, then more seeds of the
    default: a run stopped at its time limit has the comparisons that matter most."""
    analogies = os.path.join(eval_dir, "questions-words.txt")
    similarity = os.path.join(eval_dir, "wordsim353.tsv")
    combos = [(name, epochs) for epochs in (1, 5) for name in corpora]
    plan = [(label, settings, seeds[0]) for label, settings in variants[:2]]
    plan += [(variants[0][0], variants[0][1], seed) for seed in seeds[1:]]
    plan += [(label, settings, seeds[0]) for label, settings in variants[2:]]
    for label, settings, seed in plan:
        for name, epochs in combos:
            row, v = train_row(corpora[name], label, seed=seed, epochs=epochs, **settings)
            an = evaluate_analogies(v, analogies, restrict_vocab=30000)
            ws = evaluate_word_pairs(v, similarity)
            row.update(corpus=name, epochs=epochs, seed=seed, analogy=100 * an.accuracy, ws353_rho=ws.spearman)
            emit("quality", row, out)


def memory(out: str, V: int, d: int = 300, B: int = 1 << 18) -> None:
    reset_peak()
    model = SkipGramNS(V, d).to(DEVICE)
    weights = np.arange(V, 0, -1, dtype=np.float64) ** -0.75
    from fastw2v import kernels as K

    step = fused.FusedStep(
        model.in_embed.weight.detach(),
        model.out_embed.weight.detach(),
        5,
        torch.from_numpy(K.build_alias_table(weights)),
    )
    loss = torch.zeros((), device=DEVICE)
    g = torch.Generator(device=DEVICE).manual_seed(1)
    for i in range(5):
        center = torch.randint(0, V, (B,), device=DEVICE, generator=g)
        pos = torch.randint(0, V, (B,), device=DEVICE, generator=g)
        step.step(center, pos, 0.025, 16.0, loss, draw=(1, 2, i * B))
    sync()
    emit("memory", dict(V=V, d=d, batch=B, matrices_mib=2 * V * d * 4 / 2**20, peak_gpu_mib=peak_mib()), out)
    del model, step


def profile_training(corpus, B: int, kernel: str, device: str = "cuda") -> dict:
    """torch.profiler over one epoch of ``fastw2v.train`` (after an untimed one, so that nothing compiles
    inside): the GPU kernels' summed time against the training time (how busy the GPU was) and the kernels."""
    from torch.profiler import ProfilerActivity, profile

    settings = dict(
        corpus=corpus, backend="torch", device=device, progress=False, sgd_kernel=kernel, batch_size=B, epochs=1
    )
    fastw2v.train(**settings)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    with profile(activities=activities) as prof:
        v = fastw2v.train(**settings)
    events = prof.key_averages()
    busy = sum(e.self_device_time_total for e in events if str(e.device_type).endswith("CUDA")) / 1e6  # us -> s
    table = events.table(sort_by="self_device_time_total", row_limit=14, max_name_column_width=50)
    return dict(
        kernel=kernel,
        batch=B,
        train_seconds=v.stats.seconds,
        gpu_busy_seconds=busy,
        busy_share=busy / v.stats.seconds,
        words_per_sec=v.stats.words_per_sec,
        table=table,
    )


def profile_run(corpus, out: str, B: int) -> None:
    for kernel in ("triton", "torch"):
        emit("profile", profile_training(corpus, B, kernel, DEVICE), out)


def pairs_per_second(step: fused.FusedStep, data: list, loss: torch.Tensor) -> float:
    """Pairs a second of ``step`` over the (center, pos) batches of ``data``, three times, at lr 0 (the matrices
    do not change), after one untimed step that compiles the step's current block shapes."""
    center, pos = data[0]
    step.step(center, pos, 0.0, 16.0, loss, draw=(1, 2, 0))
    sync()
    start = time.perf_counter()
    for center, pos in data * 3:
        step.step(center, pos, 0.0, 16.0, loss, draw=(1, 2, 0))
    sync()
    return sum(c.shape[0] for c, _ in data) * 3 / (time.perf_counter() - start)


def blocks(corpus, out: str, B: int) -> None:
    """Step time for other (pairs per program, warps) of each kernel on the same batches (lr 0: the matrices do
    not change): the score kernel's shape varied with the update kernel's fixed, then the update kernel's
    with the best score shape. The best pair is reported beside the default rule (``fused.block_shapes``), which the
    rest of the run uses: a better pair goes into that rule, with its measurement."""
    candidates = {
        100: [(4, 1), (8, 1), (8, 2), (16, 2), (16, 4), (32, 4), (32, 8), (64, 8)],
        300: [(2, 2), (4, 2), (4, 4), (8, 4), (8, 8), (16, 8)],
    }
    for d, shapes in candidates.items():
        batches = DeviceBatches(corpus, device=DEVICE, batch_size=B)
        data = []
        for i, (center, pos, _) in enumerate(batches):
            data.append((center, pos))
            if i == 3:
                break
        model = SkipGramNS(len(corpus.vocab), d).to(DEVICE)
        alias_table = torch.from_numpy(batches.alias_table)
        step = fused.FusedStep(model.in_embed.weight.detach(), model.out_embed.weight.detach(), 5, alias_table)
        loss = torch.zeros((), device=DEVICE)
        default = fused.block_shapes(d)
        best = {}
        for which in ("score", "update"):
            rates = {}
            for shape in shapes:
                setattr(step, f"{which}_shape", shape)
                rates[shape] = pairs_per_second(step, data, loss)
                emit(
                    "blocks",
                    dict(
                        d=d,
                        batch=B,
                        kernel=which,
                        pairs=shape[0],
                        warps=shape[1],
                        other=getattr(step, "update_shape" if which == "score" else "score_shape"),
                        pairs_per_sec=rates[shape],
                    ),
                    out,
                )
            best[which] = max(rates, key=rates.get)
            setattr(step, f"{which}_shape", best[which])
        emit("blocks_chosen", dict(d=d, default=default, chosen=(best["score"], best["update"])), out)
        del model, step


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_fused", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="encoded IMDB folder (tools.carry unpack)")
    p.add_argument("--second", default=None, help="encoded folder of the second corpus (not IMDB)")
    p.add_argument("--eval-dir", default=".devdata", help="folder with questions-words.txt and wordsim353.tsv")
    p.add_argument("--out", required=True)
    p.add_argument("--parts", default="check,speed,quality,memory,profile,blocks")
    p.add_argument("--repeat", type=int, default=2, help="rounds of the speed rows")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--quality-batch", type=int, default=1 << 16)
    p.add_argument("--device", default="cuda", help="cuda; cpu with TRITON_INTERPRET=1 is a smoke test of this script")
    p.add_argument("--speed-batches", default="14,15,16,17,18,20", help="log2 of the triton rows' batch sizes")
    return p


def run_part(name: str, args, started: float, fn, *a, **kw) -> None:
    """Runs one part if ``--parts`` names it; a part that fails is recorded under ``errors``, and the rest run."""
    if name not in args.parts.split(","):
        return
    t = time.perf_counter()
    try:
        fn(*a, **kw)
    except Exception as e:  # one failing part must not lose the others
        emit("errors", dict(part=name, error=f"{type(e).__name__}: {e}"), args.out)
    print(
        f"[{time.perf_counter() - started:6.1f}s] {name} done in {time.perf_counter() - t:.1f}s",
        file=sys.stderr,
        flush=True,
    )


def quality_variants(batch: int) -> list[tuple[str, dict]]:
    """The quality part's settings: the default first, then the torch step, a larger batch and k = 10."""
    return [
        ("default", dict(batch_size=batch)),
        ("torch step", dict(batch_size=batch, sgd_kernel="torch")),
        ("B=2^18", dict(batch_size=1 << 18)),
        ("k=10", dict(batch_size=batch, negative=10)),
    ]


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    global DEVICE
    DEVICE = args.device
    on_gpu = DEVICE.startswith("cuda")
    os.makedirs(args.out, exist_ok=True)
    RESULTS["machine"] = dict(
        cpu=common.cpu_model(),
        gpu=torch.cuda.get_device_name(0) if on_gpu else None,
        torch=torch.__version__,
        triton=getattr(fused.triton, "__version__", None),
        cpus=os.cpu_count(),
    )
    corpus = EncodedCorpus.load(args.corpus)
    started = time.perf_counter()
    run_part("check", args, started, check, corpus, args.out, DEVICE, 1 << 16 if on_gpu else 64)
    run_part("blocks", args, started, blocks, corpus, args.out, 1 << 16 if on_gpu else 64)
    batches = [int(e) for e in args.speed_batches.split(",")]
    run_part("speed", args, started, speed, corpus, args.out, args.repeat, batches)
    corpora = {"imdb": corpus}
    if args.second:
        corpora["second"] = EncodedCorpus.load(args.second)
    seeds = [int(s) for s in args.seeds.split(",")]
    V, B = (5_000_000, 1 << 18) if on_gpu else (1000, 64)
    run_part("memory", args, started, memory, args.out, V, B=B)
    run_part("profile", args, started, profile_run, corpus, args.out, 1 << 16)
    variants = quality_variants(args.quality_batch)
    run_part("quality", args, started, quality, corpora, args.out, args.eval_dir, seeds, variants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
