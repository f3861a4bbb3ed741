"""Training on several processes, GPUs or machines: torch.distributed, launched by ``torchrun``.

Every rank holds the whole model. The vocabulary is cut into one partition per rank, and a chunk's pairs into
buckets: (the partition of the word whose input row the pair trains, the partition of the word whose output row
it trains), with the pair's negatives drawn from the second partition (``Buckets``). A chunk is trained in world
rounds; in round s rank r trains bucket (r, r + s mod world) of all the chunk's pairs, so no two ranks write one
row between two syncs. After each round the ranks gather the output rows each one wrote, and at the chunk's end
the input rows (``PartitionSync``): with one writer per row nothing is combined, and the job trains, bit for bit,
the model of one process that takes the buckets in turn (``ALONE_AS_RANKS``). Every random draw is
keyed by the pair's index in its chunk (``kernels``), so every pair is trained once per epoch.

Before the buckets, every rank trained its share of each chunk's pieces and the syncs combined the ranks' changes
of the same rows (``DeltaSync`` with ``combine_weights``: the sum for a word the ranks met rarely, towards the mean
for a word each rank met many times); at 8 ranks that stayed 1.5 analogy points below one process on IMDB, where
the buckets match it. ``PARTITIONED = False`` still runs it, for benchmarks.distributed's comparisons;
docs/distributed.md has the measurements of both.

The vocabulary is encoded once on each machine (the first rank there encodes, the others read the cache entry it
wrote) and checked to be the same on all ranks before training.

Faults: a sync waits ``Config.sync_timeout`` seconds at most; a rank that died (its connections close) or
hangs makes every other rank stop with one line that names it (``RankLost``). Only rank 0 writes checkpoints,
vectors and the summary; whether to checkpoint or stop (SIGTERM) is decided by all ranks together, so they
never wait on different collectives.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import time

import numpy as np
import torch

from .errors import UserError

# Setup waits (encoding on the first rank of each machine while the others wait, loading a checkpoint, a
# checkpoint write) have no bound but this one: encoding 10B tokens takes about half an hour.
SETUP_TIMEOUT = datetime.timedelta(hours=2)
_HEARTBEAT = "fastw2v/sync/"  # key prefix in the job's store: how many syncs each rank has entered
_ALIVE = "fastw2v/alive/"  # key prefix: set by each rank that saw a collective fail (it is still running)
LOST_WAIT = 3.0  # seconds the ranks that saw a collective fail wait for each other's word before naming the lost
# A job of several ranks trains each chunk bucket by bucket (``Buckets``); False: every rank trains its share of the
# pieces and the syncs combine the ranks' changes of the same rows (``DeltaSync``, ``combine_weights``), the scheme
# before the buckets, kept for benchmarks.distributed's comparisons.
PARTITIONED = True
ALONE_AS_RANKS = 0  # > 1: one process trains the buckets of that many ranks in turn (the job's model; tests, benchmarks)
# With ALONE_AS_RANKS, hogwild only: the buckets' order with negatives from the whole vocabulary, as one process draws
# them (a job cannot: other ranks write those rows). benchmarks.distributed --bucket-negatives all; docs/distributed.md.
BUCKET_NEGATIVES_FROM_ALL = False
# The scheme without buckets. How a sync combines the ranks' changes: "damped", each row's summed change times
# combine_weights' factor, between 1 (a rarely seen word: the sum) and 1/world (a word each rank met many times
# since the last sync: the mean); "sum": every rank's change applied in full; "mean": the ranks' models averaged
# (Spark's and DL4J's scheme); "hot-mean": the rows of words a rank meets more than MEAN_ABOVE times between two
# syncs averaged, the rest summed.
COMBINE = "damped"
MEAN_ABOVE = 10.0
HOT_ABOVE = 10.0  # rows_synced_often: 0 syncs every row every round
CURVATURE = 0.1  # combine_weights: an update moves a row this share of lr of the way to its optimum (measured)
SYNC_TOKENS = 16_384  # tokens each rank trains between two syncs of the frequent words' rows
SYNC_ALL_TOKENS = 262_144  # tokens of the whole job between two syncs of every row (and at each chunk's end)


def combine_weights(counts: np.ndarray, n_tokens: int, config, world: int, sync_rows: int) -> np.ndarray | None:
    """(V, 2) factors for the summed changes of the input and output rows (None: all 1, the plain sum).

    Why not the sum: take one row and a loss that pulls it towards w* by lr·h per update. Each rank makes K
    updates from the same starting point w0 and ends at w* + rho (w0 - w*), rho = (1 - lr h)^K. Summed, the
    row lands at w* + (1 + world (rho - 1)) (w0 - w*): past w* as soon as rho < 1 - 1/world, and further from it
    than it started when rho < 1 - 2/world. At 2 ranks that never diverges; at 8 the rows of frequent words
    (thousands of updates between syncs, rho ~ 0) are thrown 7 times as far past w* (8 ranks diverge on IMDB
    at any sync interval). One process making all world·K updates lands at w* + rho^world (w0 - w*); the
    factor a = (1 - rho^world) / (world (1 - rho)) gives exactly that: 1 for a rare word (rho -> 1), 1/world for
    a frequent one (rho -> 0). rho = exp(-CURVATURE · lr · K), lr the run's first learning rate (at the current
    one, as the model reads, 8 ranks diverge: docs/distributed.md), K the updates a rank expects between two syncs of
    the row: as a context (input rows) or a center (output rows), from the word's count, its sub-sampling keep
    rate and the mean window (window + 1 pairs), and for output rows as a negative too (count^ns_exponent)."""
    from .kernels import TWO32, keep_thresholds

    if COMBINE == "sum":
        return None
    V = counts.shape[0]
    if COMBINE in ("mean", "hot-mean"):
        w = np.ones((V, 2), dtype=np.float32)
        w[:V if COMBINE == "mean" else frequent_rows(counts, n_tokens, SYNC_TOKENS, MEAN_ABOVE)] = 1 / world
        return w
    counts = np.asarray(counts, dtype=np.float64)
    share = counts / max(int(n_tokens), 1)
    keep = np.minimum(keep_thresholds(counts, config.sample) / TWO32, 1.0)
    as_center = share * keep * (config.window + 1)  # updates per corpus token, as a center or a context
    pairs_per_token = float(np.sum(as_center))
    negatives = counts ** config.ns_exponent
    as_negative = pairs_per_token * config.negative * negatives / max(negatives.sum(), 1e-300)
    tokens = np.full(V, all_rows_tokens(config, world))  # tokens a rank trains between two syncs of a row
    tokens[:sync_rows] = min(SYNC_TOKENS, config.chunk_tokens / world)
    w = np.empty((V, 2), dtype=np.float32)
    for k, per_token in enumerate((as_center, as_center + as_negative)):
        rho = np.exp(-CURVATURE * config.lr * per_token * tokens)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = (1 - rho ** world) / (world * (1 - rho))
        w[:, k] = np.where(1 - rho > 1e-12, a, 1.0)
    return w


def rows_synced_often(counts: np.ndarray, n_tokens: int, config, world: int) -> int:
    """How many rows (the most frequent words') each round syncs; every row syncs every ``sync_all_every`` rounds.
    They are the words a rank meets more than HOT_ABOVE times between two syncs of every row: summed after that many
    updates made without the other ranks' (from one starting point, without the feedback one process gets after
    each), their rows overshoot, and at 8 ranks training diverges (docs/distributed.md). The rest change little
    in that time."""
    return frequent_rows(counts, n_tokens, all_rows_tokens(config, world), HOT_ABOVE)


def sync_all_every(config, world: int) -> int:
    """Every row syncs at every this many-th round (``SYNC_ALL_TOKENS`` of the whole job, in rounds of
    ``world x SYNC_TOKENS``), and at each chunk's end. At the defaults: every 8th round at 2 ranks, every 2nd at 8
    (32k tokens per rank), every round from 16. Synced only at chunk ends (1M tokens of the job), the rows below
    the frequent words' cost 8 ranks 2.6 analogy points on IMDB at 5 epochs; every 262k tokens, 1.5
    (docs/distributed.md)."""
    return max(1, round(SYNC_ALL_TOKENS / (world * SYNC_TOKENS)))


def all_rows_tokens(config, world: int) -> float:
    """Tokens a rank trains between two syncs of every row."""
    return min(sync_all_every(config, world) * SYNC_TOKENS, config.chunk_tokens / world)


def frequent_rows(counts: np.ndarray, n_tokens: int, tokens: float, above: float) -> int:
    """How many words (the first rows: counts are sorted, most frequent first) a rank expects to meet more than
    ``above`` times in ``tokens`` tokens of the corpus."""
    seen = np.asarray(counts, dtype=np.float64) * (tokens / max(int(n_tokens), 1))
    return int(np.count_nonzero(seen > above))


class RankLost(UserError):
    """A rank died or stopped answering: the job cannot continue."""


class Group:
    """This process's place in the job, and the collectives fastw2v uses, each with a clear error when a rank
    is lost. ``rank`` 0 writes everything the job writes."""

    def __init__(self, device: torch.device, sync_timeout: float, owns: bool):
        import torch.distributed as dist

        self.dist = dist
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.local_rank = int(os.environ.get("LOCAL_RANK", self.rank))
        self.local_world = int(os.environ.get("LOCAL_WORLD_SIZE", self.world))
        self.device = device
        self.backend = dist.get_backend()
        self.owns = owns  # this module started the process group (and ends it)
        # the syncs of training, with their short timeout; setup collectives use the default group
        self.sync_group = dist.new_group(timeout=datetime.timedelta(seconds=sync_timeout))
        self.syncs = 0  # syncs entered (the heartbeat the others read when a collective fails)
        try:
            self.store = dist.distributed_c10d._get_default_store()
        except Exception:  # a private function: without it a lost rank is not named
            self.store = None
        self.sync_seconds = 0.0  # time spent in the training syncs, all of them
        self.sync_bytes = 0  # bytes this rank all-reduced, or gathered, in the training syncs

    @property
    def is_writer(self) -> bool:
        return self.rank == 0

    # -- collectives -----------------------------------------------------------------------------------
    def _call(self, what: str, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except RuntimeError as e:  # gloo: "Connection closed by peer", a timeout; NCCL: DistBackendError
            raise self.lost(what, e) from None

    def barrier(self, what: str) -> None:
        """All ranks reach this point (setup timeout)."""
        self._call(what, self.dist.barrier)

    def all_reduce_(self, tensor: torch.Tensor, what: str, heartbeat: bool = True) -> torch.Tensor:
        """Sum ``tensor`` over the ranks, in place (the sync group: sync_timeout). ``heartbeat``: count it and say
        so in the store (a round trip; the frequent rows' syncs between two chunk ends skip it)."""
        if heartbeat:
            self.syncs += 1
            self._heartbeat()
        self._call(what, self.dist.all_reduce, tensor, group=self.sync_group)
        return tensor

    def all_gather_(self, outs: list[torch.Tensor], tensor: torch.Tensor, what: str) -> list[torch.Tensor]:
        """Every rank's ``tensor`` into ``outs`` (``outs[r]``: rank r's; the sync group: sync_timeout)."""
        self.syncs += 1
        self._heartbeat()
        self._call(what, self.dist.all_gather, outs, tensor, group=self.sync_group)
        return outs

    def sum(self, values, what: str) -> list[float]:
        """Floats summed over the ranks."""
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self._collective_device())
        return self.all_reduce_(t, what).tolist()

    def any(self, flags, what: str) -> list[bool]:
        """For each flag: is it set on any rank? (One collective for all.)"""
        return [v > 0 for v in self.sum([1.0 if f else 0.0 for f in flags], what)]

    def broadcast_object(self, obj, what: str):
        """Rank 0's ``obj`` (pickled), on every rank."""
        box = [obj if self.is_writer else None]
        self._call(what, self.dist.broadcast_object_list, box, src=0,
                   device=self._collective_device() if self.backend == "nccl" else None)
        return box[0]

    def check_same(self, what: str, value) -> None:
        """UserError on every rank unless all ranks hold the same ``value`` (small, picklable)."""
        values = [None] * self.world
        self._call(f"comparing {what}", self.dist.all_gather_object, values, value)
        differ = [r for r, v in enumerate(values) if v != values[0]]
        if differ:
            raise UserError(f"{what} differs between ranks 0 and {differ[0]} ({values[0]} against "
                            f"{values[differ[0]]}): give every rank the same text and settings (and the same "
                            "fastw2v version)")

    def _collective_device(self) -> torch.device:
        return self.device if self.backend == "nccl" else torch.device("cpu")

    # -- a lost rank -----------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        if self.store is None:
            return
        try:
            self.store.set(f"{_HEARTBEAT}{self.rank}", str(self.syncs))
        except Exception:  # the store went with its host: keep training, the collective will tell
            self.store = None

    def behind(self) -> list[int]:
        """The ranks that have not entered the sync this rank is in (as far as the job's store knows)."""
        if self.store is None:
            return []
        late = []
        try:
            for r in range(self.world):
                key = f"{_HEARTBEAT}{r}"
                if r != self.rank and (not self.store.check([key]) or int(self.store.get(key)) < self.syncs):
                    late.append(r)
        except Exception:
            return []
        return late

    def lost(self, what: str, error: Exception) -> RankLost:
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if cause.startswith("[") and "] " in cause:  # gloo's source location: "[../gloo/transport/tcp/pair.cc:534] "
            cause = cause.split("] ", 1)[1]
        cause = cause.split(". ", 1)[0][:100]  # "Connection closed by peer [127.0.0.1]:20145"
        late = self.unanswered() or self.behind()
        who = (f"rank{'s' if len(late) > 1 else ''} {', '.join(map(str, late))}" if late else "another rank")
        return RankLost(f"rank {self.rank}: lost contact with {who} while {what} ({cause}); the job stops: "
                        "run the same command with --resume to continue from the last checkpoint")

    def unanswered(self, wait: float = LOST_WAIT) -> list[int]:
        """After a failed collective: every rank still running says so in the store; the ranks that have not
        within ``wait`` seconds died or hang. (Empty when the store is gone too.)"""
        if self.store is None:
            return []
        try:
            self.store.set(f"{_ALIVE}{self.rank}", "1")
            deadline = time.monotonic() + wait
            while True:
                missing = [r for r in range(self.world) if not self.store.check([f"{_ALIVE}{r}"])]
                if not missing or time.monotonic() >= deadline:
                    return missing
                time.sleep(0.1)
        except Exception:
            return []

    def close(self) -> None:
        if self.owns and self.dist.is_initialized():
            self.dist.destroy_process_group()


def join(device_name: str, sync_timeout: float) -> Group | None:
    """The Group of this process when it is one of several (torchrun's environment, or a process group the
    caller initialised), else None. Starts the process group when the environment asks for one: NCCL for
    CUDA devices, gloo for CPUs."""
    import torch.distributed as dist

    owns, device = False, _device(device_name)
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return None
        if not dist.is_available():
            raise UserError("WORLD_SIZE is set but this build of torch has no torch.distributed: run one process")
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        try:
            dist.init_process_group(backend, timeout=SETUP_TIMEOUT,
                                    device_id=device if device.type == "cuda" else None)
        except (RuntimeError, ValueError) as e:
            raise UserError(f"cannot join the torchrun job ({str(e).splitlines()[0][:120]}): check MASTER_ADDR, "
                            "MASTER_PORT and --rdzv-endpoint, and that every node can reach them") from None
        owns = True
    if dist.get_world_size() <= 1:
        return None
    return Group(device, sync_timeout, owns)


def _device(name: str) -> torch.device:
    """auto / cuda: this process's GPU (cuda:LOCAL_RANK) when there is one, else the CPU."""
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", local % max(torch.cuda.device_count(), 1))
    return torch.device(name)


def threads_per_process(group: Group | None) -> int:
    """The cores of this machine divided among its ranks (at least 1)."""
    cores = os.cpu_count() or 1
    return max(1, cores // (group.local_world if group is not None else 1))


def rounds(chunk_tokens: int, world: int, sync_tokens: int) -> int:
    """Sync rounds in a chunk of ``chunk_tokens``: each rank trains about ``sync_tokens`` tokens a round."""
    return max(1, -(-int(chunk_tokens) // (world * sync_tokens)))


def shares(pair_offsets: np.ndarray, n: int) -> np.ndarray:
    """Piece bounds of ``n`` runs of consecutive pieces with about equal numbers of pairs, which together cover
    every piece once (``pair_offsets``: each piece's first pair index, and the total). A chunk cut into
    rounds x world runs gives run ``s * world + r`` to rank r in round s; hogwild cuts a share into its threads'
    blocks the same way."""
    targets = np.linspace(0, pair_offsets[-1], n + 1)
    bounds = np.searchsorted(pair_offsets, targets, side="left")
    bounds[0], bounds[-1] = 0, pair_offsets.shape[0] - 1
    return np.maximum.accumulate(bounds).astype(np.int64)


class SyncTimer:
    """The time a rank spends in its training syncs, added to ``group.sync_seconds``: by the clock on the CPU, by
    CUDA events on a GPU (read at ``finish()``, once training is done, not by waiting for the device at each sync)."""

    def __init__(self, group: Group, device: torch.device):
        self.group = group
        self.events = [] if device.type == "cuda" else None

    @contextlib.contextmanager
    def __call__(self):
        start = time.perf_counter()
        if self.events is not None:
            self.events.append((torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)))
            self.events[-1][0].record()
        yield
        if self.events is not None:
            self.events[-1][1].record()
        else:
            self.group.sync_seconds += time.perf_counter() - start

    def finish(self) -> None:
        if self.events:
            torch.cuda.synchronize()
            self.group.sync_seconds += sum(a.elapsed_time(b) for a, b in self.events) / 1e3
            self.events.clear()


class DeltaSync:
    """Sums what each rank changed in two matrices since the last sync and applies the sum on every rank.

    ``matrices``: (w_in, w_out), numpy arrays (views are fine: the hogwild trainer's padded rows) or torch
    tensors, changed in place; ``weights`` (V, 2): each row's factor on the summed change (``combine_weights``).
    ``sync(what)`` syncs every row, ``sync(what, every_row=False)`` the first ``often`` rows only (the most
    frequent words': vocabularies are sorted by count); ``round_done`` picks one of the two for the end of a
    round: every row at every ``all_every``-th round and at a chunk's end. Holds a copy of both as they were at the
    last sync and a buffer for the changes, laid out (V, 2, d) so that the first rows of both are one
    contiguous all-reduce: four more (V, d) matrices of memory."""

    def __init__(self, group: Group, matrices, weights: np.ndarray | None = None, often: int | None = None,
                 all_every: int = 1):
        self.group = group
        self.all_every = all_every  # round_done: every row at every all_every-th round (and at a chunk's end)
        self.rounds = 0  # rounds since every row was last synced
        self.often = often  # rows synced by sync(what, every_row=False): the most frequent words' (None: all)
        self.matrices = list(matrices)
        self.numpy = isinstance(self.matrices[0], np.ndarray)
        V, d = self.matrices[0].shape
        if self.numpy:
            self.base = [np.array(m, dtype=np.float32, order="C") for m in self.matrices]
            self.delta = np.empty((V, len(self.matrices), d), dtype=np.float32)
            self.weights = None if weights is None else weights[:, :, None]
        else:
            self.base = [m.detach().clone().contiguous() for m in self.matrices]
            self.delta = torch.empty((V, len(self.matrices), d), dtype=self.base[0].dtype, device=self.base[0].device)
            self.weights = None if weights is None else torch.from_numpy(weights[:, :, None]).to(self.delta)
        self.timer = SyncTimer(group, torch.device("cpu") if self.numpy else self.delta.device)

    def round_done(self, what: str, chunk_end: bool) -> None:
        """The sync at the end of a round: every row at a chunk's end and every ``all_every``-th round, else the
        frequent words' rows."""
        self.rounds += 1
        every_row = chunk_end or self.rounds == self.all_every
        self(what, every_row=every_row)
        self.rounds = 0 if every_row else self.rounds

    def __call__(self, what: str, every_row: bool = True) -> None:
        with self.timer():
            self._sync(what, every_row)

    def _sync(self, what: str, every_row: bool) -> None:
        n = self.delta.shape[0] if every_row or self.often is None else min(self.often, self.delta.shape[0])
        delta = self.delta[:n]
        for k, (m, base) in enumerate(zip(self.matrices, self.base)):
            if self.numpy:
                np.subtract(m[:n], base[:n], out=delta[:, k])
            else:
                delta[:, k].copy_(m.detach()[:n]).sub_(base[:n])
        self.group.all_reduce_(torch.from_numpy(delta) if self.numpy else delta, what, heartbeat=every_row)
        if self.weights is not None:  # combine_weights: each row's share of the sum
            delta *= self.weights[:n]
        for k, (m, base) in enumerate(zip(self.matrices, self.base)):
            base[:n] += delta[:, k]
            if self.numpy:
                m[:n] = base[:n]
            else:
                m.detach()[:n].copy_(base[:n])
        self.group.sync_bytes += delta.nbytes

    def finish(self) -> None:
        """Add the GPU syncs' times to the group's figures (once training is done: it waits for the device)."""
        self.timer.finish()


def vocab_partitions(mass: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    """Each word's partition (int32[V]) of ``n``, about equal in both ``mass`` (the kept tokens: the pairs a word
    is in) and ``q`` (its share of the negatives): words in decreasing order of mass, each into the partition with
    the least of the two shares summed so far (greedy, as in longest-processing-time scheduling)."""
    mass = np.asarray(mass, dtype=np.float64)
    share = mass / max(mass.sum(), 1e-300) + np.asarray(q, dtype=np.float64) / max(float(np.sum(q)), 1e-300)
    load = np.zeros(n)
    partition = np.empty(mass.shape[0], dtype=np.int32)
    for w in np.argsort(-mass, kind="stable"):
        k = int(np.argmin(load))
        partition[w] = k
        load[k] += share[w]
    return partition


class Buckets:
    """The vocabulary cut into ``n`` partitions, so that ``n`` ranks train disjoint rows between two syncs.

    A pair (context, center) trains the context's input row against the output rows of the center and of its
    negatives (hogwild's orientation, word2vec.c's). Its bucket is (the context's partition, the center's), and
    its negatives are drawn from the center's partition (``tables[b]``: unigram^0.75 within it, entries index
    ``words[b]``). In round s of a chunk rank r trains bucket (r, (r + s) mod n) of every piece of the chunk:
    the input rows of partition r, which only rank r ever writes, and the output rows of partition r + s, which
    no other rank writes that round. After n rounds every pair of the chunk was trained once. Each row has one
    writer between two syncs, so a sync that copies every row from its writer loses nothing (``PartitionSync``),
    whatever the number of ranks: the job trains the model of one process that takes the buckets in turn
    (``ALONE_AS_RANKS``). What differs from one process
    training every pair in order is where the negatives come from (the center's partition: each of the n
    partitions holds about 1/n of the negative distribution and of the kept tokens, ``vocab_partitions``) and
    the order within a chunk (a round takes 1/n of the pairs of every piece). docs/distributed.md measures both
    (PyTorch-BigGraph trains its partitions' buckets the same way)."""

    def __init__(self, counts: np.ndarray, keep_threshold: np.ndarray, q: np.ndarray, n: int):
        from .kernels import TWO32, build_alias_table

        self.n = n
        keep = np.minimum(np.asarray(keep_threshold, dtype=np.float64) / TWO32, 1.0)
        self.partition = vocab_partitions(np.asarray(counts, dtype=np.float64) * keep, q, n)
        self.words = [np.flatnonzero(self.partition == k).astype(np.int32) for k in range(n)]
        # a partition without words (fewer words than ranks) has no centers, so its table is never drawn from
        self.tables = [build_alias_table(q[w]) if w.shape[0] and q[w].sum() > 0
                       else np.array([[1 << 32, 0]], dtype=np.int64) for w in self.words]


def job_buckets(group: Group | None, corpus, config) -> Buckets | None:
    """The Buckets of a job of several ranks (or of ``ALONE_AS_RANKS``), None when it trains every pair in turn."""
    from .kernels import keep_thresholds

    n = group.world if group is not None else ALONE_AS_RANKS
    if n < 2 or not PARTITIONED:
        return None
    vocab = corpus.vocab
    return Buckets(vocab.counts, keep_thresholds(vocab.counts, config.sample), vocab.unigram_weights(config.ns_exponent),
                   n)


class PartitionSync:
    """The syncs of ranks that train disjoint rows (``Buckets``): after round s of a chunk every rank sends the output
    rows it wrote (partition rank + s's) and takes the others' (an all-gather), and at the chunk's end the same for
    the input rows (each rank's own partition's). A row has one writer, so every rank ends each round with the rows as
    their writers left them, bit for bit, and each chunk with the same matrices. ``w_in``, ``w_out``: numpy arrays
    (views are fine: the hogwild trainer's padded rows) or torch tensors, changed in place. A rank sends about
    1/world of a matrix and receives the rest: half the bytes of a ring all-reduce of the matrix, and no copy of the
    model from the last sync."""

    def __init__(self, group: Group, w_in, w_out, buckets: Buckets):
        self.group, self.matrices = group, {"input": w_in, "output": w_out}
        self.numpy = isinstance(w_in, np.ndarray)
        rows = max(w.shape[0] for w in buckets.words)
        d = w_in.shape[1]
        if self.numpy:
            self.words = buckets.words
            dtype, device = torch.float32, torch.device("cpu")
        else:
            self.words = [torch.from_numpy(w).long().to(w_in.device) for w in buckets.words]
            dtype, device = w_in.dtype, w_in.device
        # this rank's rows (the largest partition's size: the rest of a smaller one's is zeros), then every rank's
        self.send = torch.zeros((rows, d), dtype=dtype, device=device)
        self.received = [torch.zeros((rows, d), dtype=dtype, device=device) for _ in range(group.world)]
        self.timer = SyncTimer(group, device)

    def round_done(self, s: int, what: str) -> None:
        """After round s of a chunk (the last: world - 1, the chunk's end)."""
        n = self.group.world
        with self.timer():
            self._gather("output", [(r + s) % n for r in range(n)], what)
            if s == n - 1:
                self._gather("input", list(range(n)), what)

    def _gather(self, which: str, wrote: list[int], what: str) -> None:
        """Every rank r's rows of partition ``wrote[r]`` of the ``which`` matrix, into every rank's."""
        m, me = self.matrices[which], self.group.rank
        mine = self.words[wrote[me]]
        if self.numpy:
            self.send.numpy()[:mine.shape[0]] = m[mine]
        else:
            self.send[:mine.shape[0]] = m.detach()[mine]
        self.group.all_gather_(self.received, self.send, f"{what} ({which} rows)")
        for r, rows in enumerate(self.received):
            theirs = self.words[wrote[r]]
            if r == me or theirs.shape[0] == 0:
                continue
            if self.numpy:
                m[theirs] = rows.numpy()[:theirs.shape[0]]
            else:
                m.detach().index_copy_(0, theirs, rows[:theirs.shape[0]])
        self.group.sync_bytes += sum(b.nbytes for b in self.received)

    def finish(self) -> None:
        """Add the GPU syncs' times to the group's figures (once training is done: it waits for the device)."""
        self.timer.finish()


def model_sync(group: Group, matrices, counts: np.ndarray, n_tokens: int, config) -> DeltaSync:
    """The DeltaSync of a training run: fastw2v's rows synced every round, how often every row is, and the combine
    factors for this corpus."""
    often = rows_synced_often(counts, n_tokens, config, group.world)
    return DeltaSync(group, matrices, combine_weights(counts, n_tokens, config, group.world, often), often,
                     sync_all_every(config, group.world))
