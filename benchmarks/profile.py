"""Where the time goes, for ``python -m benchmarks --profile``: NumbaBatches' stages one by one, torch.profiler over
the sgd step on the CPU and on CUDA, the whole CUDA loop, and ``fastw2v.train`` with each CUDA step."""

from __future__ import annotations

import time

from .benchmarks import common
from .report import fmt
from .rows import Row

TITLE = "\n\nWhere the time goes"


def stage_seconds(b, chunk: int) -> tuple[float, float, float, float]:
    """Seconds of NumbaBatches ``b``'s stages on one chunk of epoch 0: sub-sampling, counting the pairs, building
    and shuffling them, drawing their negatives."""
    import numpy as np

    from fastw2v import kernels as K

    ids, starts = b.corpus.chunk(b.chunk_bounds, chunk)
    subsample, window, shuffle = (
        int(K.stream_base(b.seed, 0, stream, chunk))
        for stream in (K.STREAM_SUBSAMPLE, K.STREAM_WINDOW, K.STREAM_SHUFFLE)
    )
    t0 = time.perf_counter()
    kept, kept_starts = K.subsample(ids, starts, b.keep_threshold, subsample)
    t1 = time.perf_counter()
    K.count_pairs(kept_starts, b.window, True, window)
    t2 = time.perf_counter()
    center, _ = K.skipgram_pairs_shuffled(kept, kept_starts, b.window, True, window, shuffle)
    t3 = time.perf_counter()
    for first in range(0, center.shape[0], b.NEGATIVE_ROWS):
        out = np.empty((min(b.NEGATIVE_ROWS, center.shape[0] - first), 5), dtype=np.int64)
        K.draw_negatives(b.alias_table, 1, 2, first, out)
    t4 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, t4 - t3


def profile_numba(c, threads_list=(1, 2)) -> str:
    """NumbaBatches' stages timed one by one, as its pair builder and negatives call them, beside a whole epoch."""
    from fastw2v import NumbaBatches
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
        sub = count = build = neg = 0.0
        with numba_threads(threads):
            for ch in range(b.n_chunks):
                seconds = stage_seconds(b, ch)
                sub, count, build, neg = (a + s for a, s in zip((sub, count, build, neg), seconds))
        rest = epoch - (sub + count + build + neg)
        lines.append(
            f"| {threads} | {sub:.2f} s | {count:.2f} s | {build:.2f} s | {neg:.2f} s "
            f"| {max(rest, 0):.2f} s | {epoch:.2f} s | {fmt(pairs / epoch)} |"
        )
    return "\n".join(lines)


def profile_torch(c, device: str = "cpu", batch_size: int = 16384, steps: int = 20, threads: int | None = None) -> str:
    """torch.profiler over ``steps`` fused sgd steps (batches made beforehand), plus the batch/step split."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        return profile_sgd_steps(c, device, batch_size, steps)
    finally:
        torch.set_num_threads(before)


def profile_sgd_steps(c, device: str, batch_size: int, steps: int) -> str:
    """``profile_torch`` on torch's current number of threads."""
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
        f"{steps} batches of {batch_size} pairs (chunks of 2^20 tokens; profiler on): "
        f"wall {wall * 1e3 / steps:.2f} ms a batch, GPU kernels {busy * 1e3 / steps:.2f} ms a batch "
        f"({100 * busy / wall:.0f}% busy), {pairs / wall / 1e6:.1f}M pairs/s\n```\n{summary}```"
    )


def cpu_profiles(corpus_arg: str | None, quick: bool) -> tuple[str, dict]:
    """NumbaBatches' stages on the pipeline rows' slice, and the torch CPU sgd step on all threads and on one."""
    c = common.corpus(corpus_arg, 1_000_000 if quick else 5_000_000)  # the pipeline rows' slice
    profiles = dict(
        numba=profile_numba(c),
        torch_cpu=profile_torch(common.corpus(corpus_arg, 200_000), "cpu"),
        torch_cpu_1thread=profile_torch(common.corpus(corpus_arg, 200_000), "cpu", threads=1),
    )
    text = "\n\nNumbaBatches stages (B=16384), one epoch of the pipeline slice\n\n" + profiles["numba"]
    text += "\n\nThe torch CPU sgd step (torch.profiler, 20 steps)\n\n" + profiles["torch_cpu"]
    text += "\n\nThe same with 1 torch thread\n\n" + profiles["torch_cpu_1thread"]
    return text, profiles


def cuda_profiles(full, device: str) -> tuple[str, dict]:
    """The torch sgd step and the whole loop on ``device``, then ``fastw2v.train`` with each CUDA step."""
    from .gpu_fused import profile_training

    profiles = {"torch_cuda": profile_torch(full, device, batch_size=1 << 18, steps=50)}
    text = "\n\nThe torch CUDA sgd step (torch.profiler, 50 steps of 2^18)\n\n" + profiles["torch_cuda"]
    for e in (14, 16, 18):
        key = f"cuda_loop_2^{e}"
        profiles[key] = profile_device_loop(full, device, batch_size=1 << e, steps=max(50, 2 ** (22 - e)))
        text += f"\n\nThe whole CUDA loop, DeviceBatches + sgd step, B=2^{e}\n\n" + profiles[key]
    for kernel in ("triton", "torch"):  # the training loop as fastw2v.train runs it, with each step
        r = profile_training(full, 1 << 16, kernel, device)
        profiles[f"train_{kernel}_2^16"] = r
        text += (
            f"\n\nfastw2v.train, sgd {kernel} step, B=2^16, 1 epoch (profiler on): {r['words_per_sec'] / 1e6:.1f}M "
            f"words/s, GPU kernels {100 * r['busy_share']:.0f}% of the training time\n\n```\n{r['table']}```"
        )
    return text, profiles


def where_the_time_goes(args, rows: list[Row], full) -> tuple[str, dict]:
    """The profiles' section of the output (it opens with ``TITLE``) and the profiles by name, for ``--out``: the
    CPU ones unless only CUDA rows were asked for, the CUDA ones with ``--device cuda``."""
    text, profiles = TITLE, {}
    if any(not str(row.settings.get("device", "cpu")).startswith("cuda") for row in rows):
        more, found = cpu_profiles(args.corpus, args.quick)
        text, profiles = text + more, profiles | found
    if args.device.startswith("cuda"):
        more, found = cuda_profiles(full, args.device)
        text, profiles = text + more, profiles | found
    return text, profiles
