"""Training on several processes, GPUs or machines: torch.distributed, launched by ``torchrun``.

Every rank holds the whole model and trains its own share of each chunk's pieces; the ranks meet at a sync
every ``Config.sync_tokens`` tokens (per rank) and at each chunk's end. A sync all-reduces what each rank
changed since the last one (``W - W_at_last_sync``, both matrices) and every rank adds the sum to the model it
had then (``DeltaSync``): afterwards all ranks hold the same matrices, which carry every rank's updates, as one
process that trained on all the pairs would, only seen up to one round late. That is not model averaging:
averaging the ranks' models divides each rank's progress by the number of ranks, which is what makes Spark's
and DL4J's vectors worse as partitions grow (docs/distributed.md has the measurements of both).

Which pairs a rank trains: a round is a run of consecutive pieces of a chunk; it is cut into one share per
rank of about equal pairs (``shares``), and every random draw is keyed by the pair's index in its chunk
(``kernels``), so the ranks together train exactly the pairs and negatives of one process, each once per epoch.
The vocabulary is encoded once on each machine (the first rank there encodes, the others read the cache
entry it wrote) and checked to be the same on all ranks before training.

Faults: a sync waits ``Config.sync_timeout`` seconds at most; a rank that died (its connections close) or
hangs makes every other rank stop with one line that names it (``RankLost``). Only rank 0 writes checkpoints,
vectors and the summary; whether to checkpoint or stop (SIGTERM) is decided by all ranks together, so they
never wait on different collectives.
"""

from __future__ import annotations

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
# How a sync combines the ranks' changes (benchmarks.distributed compares them; docs/distributed.md has the figures):
# "sum": every rank's updates applied, as by one process that trained all the pairs (the default);
# "mean": the ranks' models averaged (Spark's and DL4J's scheme), which divides each rank's progress by the world size;
# "hot-mean": the rows of words a rank meets more than MEAN_ABOVE times between two syncs averaged, the rest summed.
COMBINE = "sum"
MEAN_ABOVE = 10.0


def mean_rows(counts: np.ndarray, n_tokens: int, sync_tokens: int) -> int:
    """How many of the most frequent words' rows a sync averages instead of summing (COMBINE); counts are
    sorted, most frequent first."""
    if COMBINE == "mean":
        return int(counts.shape[0])
    if COMBINE == "hot-mean":
        seen = np.asarray(counts, dtype=np.float64) * (sync_tokens / max(int(n_tokens), 1))
        return int(np.count_nonzero(seen > MEAN_ABOVE))
    return 0


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
        self.sync_timeout = sync_timeout
        self.syncs = 0  # syncs entered (the heartbeat the others read when a collective fails)
        try:
            self.store = dist.distributed_c10d._get_default_store()
        except Exception:  # a private function: without it a lost rank is not named
            self.store = None
        self.sync_seconds = 0.0  # time spent in the training syncs, all of them
        self.sync_bytes = 0  # bytes all-reduced by this rank in the training syncs

    @property
    def is_writer(self) -> bool:
        return self.rank == 0

    def describe(self) -> str:
        return f"{self.world} processes ({self.backend})"

    # -- collectives -----------------------------------------------------------------------------------
    def _call(self, what: str, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except RuntimeError as e:  # gloo: "Connection closed by peer", a timeout; NCCL: DistBackendError
            raise self.lost(what, e) from None

    def barrier(self, what: str) -> None:
        """All ranks reach this point (setup timeout)."""
        self._call(what, self.dist.barrier)

    def all_reduce_(self, tensor: torch.Tensor, what: str) -> torch.Tensor:
        """Sum ``tensor`` over the ranks, in place (the sync group: sync_timeout)."""
        self.syncs += 1
        self._heartbeat()
        self._call(what, self.dist.all_reduce, tensor, group=self.sync_group)
        return tensor

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
            raise UserError(f"{what} differs between ranks 0 and {differ[0]} ({values[0]} against {values[differ[0]]}): "
                            "give every rank the same text and settings (and the same fastw2v version)")

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

    owns = False
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return None
        if not dist.is_available():
            raise UserError("WORLD_SIZE is set but this build of torch has no torch.distributed: run one process")
        device = _device(device_name)
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
    return Group(_device(device_name), sync_timeout, owns)


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


def shares(pair_offsets: np.ndarray, n_rounds: int, world: int) -> np.ndarray:
    """Piece bounds of ``n_rounds * world`` runs of consecutive pieces with about equal numbers of pairs: run
    ``s * world + r`` is rank r's share of round s. Together they cover every piece once."""
    targets = np.linspace(0, pair_offsets[-1], n_rounds * world + 1)
    bounds = np.searchsorted(pair_offsets, targets, side="left")
    bounds[0], bounds[-1] = 0, pair_offsets.shape[0] - 1
    return np.maximum.accumulate(bounds).astype(np.int64)


class DeltaSync:
    """Sums what each rank changed in ``matrices`` since the last sync and applies the sum on every rank.

    ``matrices``: numpy arrays (views are fine: the hogwild trainer's padded rows) or torch tensors, changed in
    place. Holds a copy of each as it was at the last sync, and one buffer for the changes: two more matrices'
    worth of memory per matrix."""

    def __init__(self, group: Group, matrices, mean_rows: int = 0):
        self.group = group
        self.mean_rows = mean_rows  # the first rows (the most frequent words) are averaged, the others summed
        self.matrices = list(matrices)
        self.numpy = isinstance(self.matrices[0], np.ndarray)
        if self.numpy:
            self.base = [np.array(m, dtype=np.float32, order="C") for m in self.matrices]
            self.delta = [np.empty_like(b) for b in self.base]
        else:
            self.base = [m.detach().clone().contiguous() for m in self.matrices]
            self.delta = [torch.empty_like(b) for b in self.base]

    def __call__(self, what: str) -> None:
        start = time.perf_counter()
        cuda = not self.numpy and self.matrices[0].device.type == "cuda"
        for m, base, delta in zip(self.matrices, self.base, self.delta):
            if self.numpy:
                np.subtract(m, base, out=delta)
                self.group.all_reduce_(torch.from_numpy(delta), what)
                delta[:self.mean_rows] /= self.group.world
                base += delta
                m[...] = base
            else:
                torch.sub(m.detach(), base, out=delta)
                self.group.all_reduce_(delta, what)
                delta[:self.mean_rows] /= self.group.world
                base += delta
                m.detach().copy_(base)
            self.group.sync_bytes += delta.nbytes
        if cuda:  # the time of the collectives, not of their launch
            torch.cuda.synchronize()
        self.group.sync_seconds += time.perf_counter() - start

    def reset(self) -> None:
        """Take the matrices as they are now as the last sync's (after a broadcast, or a resume)."""
        for m, base in zip(self.matrices, self.base):
            if self.numpy:
                base[...] = m
            else:
                base.copy_(m.detach())
