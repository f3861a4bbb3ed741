"""A training job of several processes (torchrun): this process's place in it, and the collectives fastw2v uses.

Every rank holds the whole model; ``buckets`` decides which rows each rank trains and what the ranks send each
other. The process group comes from torchrun's environment (NCCL between GPUs, gloo between CPU processes) or from
the caller. The vocabulary is encoded once on each machine (the first rank there encodes, the others read the cache
entry it wrote) and checked to be the same on all ranks before training.

Faults: a sync waits ``Config.sync_timeout`` seconds at most; a rank that died (its connections close) or hangs
makes every other rank stop with one line that names it (``RankLost``). Only rank 0 writes checkpoints, vectors
and the summary; whether to checkpoint or stop (SIGTERM) is decided by all ranks together, so they never wait on
different collectives.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import time

import torch

from .errors import UserError, setting

# Setup waits (encoding on the first rank of each machine while the others wait, loading a checkpoint, a
# checkpoint write) have no bound but this one, long enough for the first rank to encode a corpus of billions of
# tokens (docs/decisions.md).
SETUP_TIMEOUT = datetime.timedelta(hours=2)
_HEARTBEAT = "fastw2v/sync/"  # key prefix in the job's store: how many syncs each rank has entered
_ALIVE = "fastw2v/alive/"  # key prefix: set by each rank that saw a collective fail (it is still running)
LOST_WAIT = 3.0  # seconds the ranks that saw a collective fail wait for each other's word before naming the lost
PIECE_BYTES = 8 << 20  # Group.exchange sends larger tensors in pieces of this size


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
        self.sync_timeout = datetime.timedelta(seconds=sync_timeout)
        self.sync_group = dist.new_group(timeout=self.sync_timeout)
        # the point-to-point transfers (``exchange``) in a communicator of their own: a thread beside training sends
        # them while the training thread may be in a collective of the sync group
        self.transfer_group = dist.new_group(timeout=self.sync_timeout)
        self.syncs = 0  # syncs entered (the heartbeat the others read when a collective fails)
        try:
            self.store = dist.distributed_c10d._get_default_store()
        except Exception:  # a private function: without it a lost rank is not named
            self.store = None
        self.sync_seconds = 0.0  # time spent in the training syncs, all of them
        self.sync_bytes = 0  # bytes this rank received from the others in the training syncs
        self.transfer_seconds = 0.0  # time its point-to-point transfers took (mostly beside training: ``buckets``)

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

    def all_reduce_(self, tensor: torch.Tensor, what: str) -> torch.Tensor:
        """Sum ``tensor`` over the ranks, in place (the sync group: sync_timeout)."""
        self._entered()
        self._call(what, self.dist.all_reduce, tensor, group=self.sync_group)
        return tensor

    def exchange(self, sends: list, receives: list, what: str) -> None:
        """Point to point, all at once: each (tensor, rank) of ``sends`` to that rank, each (tensor, rank) of
        ``receives`` filled from it, in the order the sender lists them (the transfer group; the tensors on
        ``collective_device``, contiguous). Large tensors travel in pieces of PIECE_BYTES, several in flight, not as one
        message (docs/distributed.md compares the two over gloo)."""
        self._entered()
        start = time.perf_counter()

        def run():
            works = []
            for items, op in ((sends, self.dist.isend), (receives, self.dist.irecv)):
                tags = {}
                for tensor, peer in items:
                    flat, step = tensor.view(-1), max(1, PIECE_BYTES // tensor.element_size())
                    for first in range(0, flat.numel(), step):
                        tags[peer] = tags.get(peer, -1) + 1
                        works.append(op(flat[first : first + step], peer, group=self.transfer_group, tag=tags[peer]))
            for work in works:
                work.wait(self.sync_timeout)

        self._call(what, run)
        self.transfer_seconds += time.perf_counter() - start

    def _entered(self) -> None:
        """Count a training sync and say so in the store (read by the others when a rank is lost)."""
        self.syncs += 1
        self._heartbeat()

    def sum(self, values, what: str) -> list[float]:
        """Floats summed over the ranks."""
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.collective_device)
        return self.all_reduce_(t, what).tolist()

    def any(self, flags, what: str) -> list[bool]:
        """For each flag: is it set on any rank? (One collective for all.)"""
        return [v > 0 for v in self.sum([1.0 if f else 0.0 for f in flags], what)]

    def broadcast_object(self, obj, what: str):
        """Rank 0's ``obj`` (pickled), on every rank."""
        box = [obj if self.is_writer else None]
        self._call(
            what,
            self.dist.broadcast_object_list,
            box,
            src=0,
            device=self.collective_device if self.backend == "nccl" else None,
        )
        return box[0]

    def check_same(self, what: str, value) -> None:
        """UserError on every rank unless all ranks hold the same ``value`` (small, picklable)."""
        values = [None] * self.world
        self._call(f"comparing {what}", self.dist.all_gather_object, values, value)
        differ = [r for r, v in enumerate(values) if v != values[0]]
        if differ:
            raise UserError(
                f"{what} differs between ranks 0 and {differ[0]} ({values[0]} against "
                f"{values[differ[0]]}): give every rank the same text and settings (and the same "
                "fastw2v version)"
            )

    @property
    def collective_device(self) -> torch.device:
        """Where the tensors of a collective live: the GPU with NCCL, the CPU with gloo."""
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
        who = f"rank{'s' if len(late) > 1 else ''} {', '.join(map(str, late))}" if late else "another rank"
        return RankLost(
            f"rank {self.rank}: lost contact with {who} while {what} ({cause}); the job stops: "
            f"run it again with {setting('resume', True)} to continue from the last checkpoint"
        )

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
            dist.init_process_group(backend, timeout=SETUP_TIMEOUT, device_id=device if device.type == "cuda" else None)
        except (RuntimeError, ValueError) as e:
            raise UserError(
                f"cannot join the torchrun job ({str(e).splitlines()[0][:120]}): check MASTER_ADDR, "
                "MASTER_PORT and --rdzv-endpoint, and that every node can reach them"
            ) from None
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
