"""The runner's markdown table: the machine it ran on (CPU model included), then one line per row with its median
rate, its ratios to the rows ``benchmarks.rows`` gives it and the share of its roofline it reaches."""

from __future__ import annotations

import os
import platform
import statistics

from .benchmarks import common
from .roofline import share_of_bound
from .rows import Row

HEADER = [
    "| group | implementation | tokens | median rate | runs (min–max) | × baseline | × gensim corpus_file "
    "| × word2vec.c | % of roofline | peak RSS MiB |",
    "|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
]


def machine() -> dict:
    """The CPU model, cores, library versions, GPU and load average of this machine, printed above the table."""
    import numba
    import numpy
    import torch

    info = dict(
        cpu=common.cpu_model(),
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


def fmt(x: float) -> str:
    """A rate in three significant digits, with k or M: 1.23M, 456k, 7.89."""
    if x != x:
        return "-"
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g}{suffix}" if x / div < 100 else f"{x / div:.0f}{suffix}"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    r = a / b
    return f"{r:,.0f}×" if r >= 100 else f"{r:.3g}×"


def percent_of_roofline(rate: float | None, bound: float | None) -> str:
    """The ``% of roofline`` cell: a row's median words/s over its trainer's bound; a dash without either."""
    share = share_of_bound(rate, bound)
    if share is None:
        return "-"
    return f"{100 * share:.0f}%" if share >= 0.1 else f"{100 * share:.2g}%"


def line(row: Row, result: dict, rate: dict[Row, float]) -> str:
    """The row's line of the table: ``rate`` holds the median rate of every row that ran."""
    if "rates" not in result:
        return f"| {row.group} | {row.label} | - | skipped: {result['skipped']} | | | | | | |"
    med = statistics.median(result["rates"])
    spread = f"{len(result['rates'])} ({fmt(min(result['rates']))}–{fmt(max(result['rates']))})"
    if result.get("skipped_rounds"):
        spread += f"; {result['skipped_rounds']} round(s) skipped"
    rss = f"{result['maxrss_mib']:.0f}"
    if row.workload.startswith("tutorial"):  # the DataLoader's worker processes, apart
        rss += f" + workers {result['children_maxrss_mib']:.0f}"
    tokens = f"{result['tokens']:,}" + (f" ({result['note']})" if result["note"] else "")
    ratios = [ratio(med, rate.get(other)) for other in (row.baseline, row.gensim, row.word2vec_c)]
    roof = percent_of_roofline(med, result.get("roofline_words_per_s"))
    return (
        f"| {row.group} | {row.label} | {tokens} | {fmt(med)} {result['unit']} | {spread} | {' | '.join(ratios)} "
        f"| {roof} | {rss} |"
    )


def roofline_note(roof: dict | None) -> str:
    """What the ``% of roofline`` column divides by (``info["roofline"]``, from ``roofline_bounds``)."""
    if not roof:
        return ""
    if "probe" not in roof:
        return " % of roofline: not measured (--no-roofline)."
    probe = roof["probe"]
    counted = "; ".join(
        f"{c['keep']:.1%} of {c['tokens']:,} tokens kept, {c['contexts']:.2f} contexts a center" for c in roof["corpus"]
    )
    return (
        " % of roofline: the row's words/s over its trainer's bound at its threads (python -m benchmarks.roofline): "
        "threads / (keep × the slower of flops / GFLOP/s and rows / rows/s, per center); one core here: "
        f"{probe['gflops']:.1f} GFLOP/s, {probe['rows_per_s']['model, Zipf'] / 1e6:.1f}M Zipfian rows/s of a "
        f"{probe['sizes_mib']['model']:.0f} MiB model; counted: {counted}."
    )


def heading(info: dict, corpus: str) -> list[str]:
    """The lines above the table: the machine, the corpus and what the columns mean."""
    return [
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, torch {info['torch']}, "
        f"numba {info['numba']} ({info.get('numba_threading_layer') or '?'}), numpy {info['numpy']}, "
        f"gensim {info['gensim']}; GPU: {info['gpu'] or 'none'}. "
        f"Load average at start {info['load_average'][0]:.1f}, at end {info.get('load_average_end', (0,))[0]:.1f}.",
        f"Corpus: {corpus}. Settings: skip-gram, negative 5, window 5, dim 100, sample 1e-3, min_count 5 (applied at "
        f"encoding), 1 epoch; the CBOW rows: CBOW, the mean of the window, against gensim's and "
        "word2vec.c's CBOW. Rates: median of the runs; words/s = in-vocabulary tokens before sub-sampling per second "
        "of training. × baseline: against the tutorial (pipeline, training), the Python encoder with the same "
        "tokenizer (ingest: the corpus's raw text as .txt, both passes), the first size (memory), one process of the "
        "same backend on all cores (distributed)." + roofline_note(info.get("roofline")),
        "",
    ]


def table(rows: list[Row], results: list[dict], info: dict) -> str:
    """The machine, the corpus and one line per row; ``results[i]`` is what ``rows[i]`` measured."""
    rate = {row: statistics.median(r["rates"]) for row, r in zip(rows, results) if "rates" in r}
    corpus = results[0].get("corpus_description", "") if results else "-"
    return "\n".join(heading(info, corpus) + HEADER + [line(row, r, rate) for row, r in zip(rows, results)])
