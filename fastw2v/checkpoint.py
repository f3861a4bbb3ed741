"""Checkpoints: a training run that can be killed and resumed where it stopped, bit for bit.

Every random draw of a run is a hash of (seed, epoch, stream, chunk, position) (``kernels``), so what a chunk
trains depends only on its (epoch, chunk) and on the matrices before it. A checkpoint taken between two
chunks therefore holds all the state there is: both matrices, the optimizer's state (Adam's moments), the
position (epoch, next chunk), the progress figures, and what the run must agree on to continue it: the
corpus and vocabulary fingerprint and the settings. Resuming from it with one hogwild thread, or with the
torch backend on a CPU, gives the vectors of an uninterrupted run exactly; with more threads, the same quality.

On disk, ``DIR/ckpt-000007/`` holds ``state.pt`` (torch.save of the matrices and the optimizer's state_dict),
``vocab.tsv`` (the vocabulary, so the folder is a whole model) and ``meta.json`` (position, settings, fingerprint,
progress, and the size and CRC-32 of the other two files). A checkpoint is written into ``ckpt-000007.tmp/``, each
file fsync'ed, then renamed into place, so a reader sees whole checkpoints only; the last ``KEEP`` are kept. A
damaged newest one (cut short, bytes changed) is skipped with a warning, and the one before it is used.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import sys
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch

from .config import Config
from .corpus import EncodedCorpus
from .errors import Interrupted, UserError, setting

FORMAT = 1
KEEP = 2  # checkpoints kept: the newest, and the one before in case the newest is damaged on disk
# Config fields that a resumed run may change: where and how fast it runs, not what it computes, and the
# checkpoint settings themselves, and how long a distributed job waits (a job may resume on another number of ranks).
MAY_DIFFER = ("workers", "device", "checkpoint_dir", "checkpoint_every", "resume", "sync_timeout")


@dataclass
class TrainState:
    """Where a run is: the next chunk to train is ``chunk`` of ``epoch`` (epoch == epochs: finished)."""

    epoch: int = 0
    chunk: int = 0
    examples: int = 0  # trained so far (``TrainStats.examples``)
    seconds: float = 0.0  # training time before this process
    smoothed_loss: float | None = None
    loss_history: list = field(default_factory=list)
    batches: int = 0  # torch backend: batches trained (the loss history's x axis)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def tokens_done(self, corpus: EncodedCorpus, chunk_bounds: np.ndarray, epochs: int) -> int:
        """Tokens trained before this position, over all epochs (where the progress bar starts)."""
        within = int(corpus.starts[chunk_bounds[self.chunk]]) if self.epoch < epochs else 0
        return self.epoch * int(corpus.n_tokens) + within


@dataclass
class Checkpoint:
    state: TrainState
    tensors: dict  # w_in, w_out, syn1 with hs (torch.Tensor on the CPU) and, for Adam, optimizer (its state_dict)
    meta: dict
    path: str

    def vectors(self, final_vectors: str = "in"):
        """The checkpoint's word vectors (``in``: the input rows, word2vec's; ``avg``: (in + out) / 2), with its
        vocabulary: a checkpoint folder is a whole model, usable without the corpus."""
        from .vectors import Vectors

        with open(os.path.join(self.path, "vocab.tsv"), encoding="utf-8") as f:
            words, counts = zip(*(line.rstrip("\n").rsplit("\t", 1) for line in f))
        w_in = self.tensors["w_in"].numpy()
        final = w_in if final_vectors == "in" else (w_in + self.tensors["w_out"].numpy()) / np.float32(2)
        return Vectors(list(words), final, np.array(counts, dtype=np.int64))

    def optimizer_state(self) -> dict | None:
        """The optimizer's state_dict, as saved (None for sgd and hogwild)."""
        return self.tensors.get("optimizer")


def fingerprint(corpus: EncodedCorpus) -> dict:
    """What identifies a corpus and its vocabulary, cheaply: sizes, a CRC of the vocabulary (words and counts)
    and of the piece starts, and a CRC of 64 blocks of 64 KiB spread over the token ids."""
    vocab_crc = zlib.crc32("\n".join(corpus.vocab.words).encode("utf-8"))
    vocab_crc = zlib.crc32(np.ascontiguousarray(corpus.vocab.counts, dtype=np.int64).tobytes(), vocab_crc)
    starts_crc = zlib.crc32(np.ascontiguousarray(corpus.starts, dtype=np.int64).tobytes())
    ids = corpus.ids
    n, block = int(corpus.n_tokens), 1 << 14  # int32 ids: 64 KiB
    ids_crc = 0
    for first in sorted({int(x) for x in np.linspace(0, max(n - block, 0), 64)}):
        ids_crc = zlib.crc32(np.ascontiguousarray(ids[first : first + block], dtype=np.int32).tobytes(), ids_crc)
    return dict(
        tokens=n,
        pieces=int(corpus.starts.shape[0] - 1),
        vocab_size=len(corpus.vocab),
        vocab_crc=vocab_crc,
        starts_crc=starts_crc,
        ids_crc=ids_crc,
    )


def settings(config: Config, backend: str) -> dict:
    """The settings a resumed run must share with the checkpoint's (all but MAY_DIFFER), plus the backend."""
    d = {k: v for k, v in config.to_dict().items() if k not in MAY_DIFFER}
    d["backend"] = backend
    if backend == "hogwild":  # what ran, whether the setting was given or left to its default
        d["shared_negatives"] = config.resolved_shared_negatives()
    return d


def _crc_of_file(path: str) -> tuple[int, int]:
    crc, size = 0, 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return size, crc


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not every system opens folders
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Checkpointer:
    """Saves and loads the checkpoints of one run in ``folder``; knows when the next one is due."""

    def __init__(self, folder: str, config: Config, corpus: EncodedCorpus, backend: str):
        self.folder = os.fspath(folder)
        self.every = config.checkpoint_every * 60.0
        self.settings = settings(config, backend)
        self.corpus = corpus
        self._fingerprint = None
        self.last_save = time.monotonic()
        self.seconds_saving = 0.0
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as e:
            raise UserError(
                f"cannot create the checkpoint folder {self.folder!r} ({e.strerror}): pass another "
                f"{setting('checkpoint_dir')}"
            ) from None
        self._remove_leftovers()

    @property
    def fingerprint(self) -> dict:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.corpus)
        return self._fingerprint

    # -- which checkpoints are there ---------------------------------------------------------------------
    def _names(self) -> list[str]:
        names = [n for n in os.listdir(self.folder) if n.startswith("ckpt-") and n[5:].isdigit()]
        return sorted(names, key=lambda n: int(n[5:]))

    def _remove_leftovers(self) -> None:
        """Folders of a save that was killed before its rename (``ckpt-N.tmp``)."""
        for name in os.listdir(self.folder):
            if name.startswith("ckpt-") and name.endswith(".tmp"):
                shutil.rmtree(os.path.join(self.folder, name), ignore_errors=True)

    # -- saving ------------------------------------------------------------------------------------------
    def due(self) -> bool:
        return time.monotonic() - self.last_save >= self.every

    def save(self, state: TrainState, matrices: dict, optimizer_state: dict | None = None) -> str:
        """Write a checkpoint of ``matrices`` (w_in, w_out and, with hs, syn1) atomically; returns its folder."""
        started = time.monotonic()
        names = self._names()
        number = int(names[-1][5:]) + 1 if names else 1
        final = os.path.join(self.folder, f"ckpt-{number:06d}")
        tmp = final + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        tensors = {name: _cpu_tensor(m) for name, m in matrices.items()}
        if optimizer_state is not None:  # tensors, numbers and lists: torch.load(weights_only=True) reads it back
            tensors["optimizer"] = optimizer_state
        files = {}
        path = os.path.join(tmp, "state.pt")
        with open(path, "wb") as f:
            torch.save(tensors, f)
            f.flush()
            os.fsync(f.fileno())
        files["state.pt"] = _crc_of_file(path)
        vocab = self.corpus.vocab
        path = os.path.join(tmp, "vocab.tsv")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(f"{w}\t{c}\n" for w, c in zip(vocab.words, vocab.counts))
            f.flush()
            os.fsync(f.fileno())
        files["vocab.tsv"] = _crc_of_file(path)
        meta = dict(
            format=FORMAT,
            state=state.to_dict(),
            settings=self.settings,
            fingerprint=self.fingerprint,
            files={k: dict(size=s, crc32=c) for k, (s, c) in files.items()},
            written=time.strftime("%Y-%m-%d %H:%M:%S"),
        )
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(tmp)
        os.replace(tmp, final)
        _fsync_dir(self.folder)
        for old in self._names()[:-KEEP]:
            shutil.rmtree(os.path.join(self.folder, old), ignore_errors=True)
        self.last_save = time.monotonic()
        self.seconds_saving += self.last_save - started
        return final

    # -- loading -----------------------------------------------------------------------------------------
    def load(self) -> Checkpoint | None:
        """The newest whole checkpoint of this folder that this run may continue, or None when there is none.
        A damaged one is skipped with a warning when an older one is whole; when every one is damaged, a UserError
        that names them (they are kept). One of another corpus or settings is a UserError."""
        damaged = []
        for name in reversed(self._names()):
            path = os.path.join(self.folder, name)
            try:
                checkpoint = read(path)
            except DamagedCheckpoint as e:
                damaged.append((path, str(e)))
                continue
            for bad, why in damaged:
                print(f"fastw2v: warning: skipping damaged checkpoint {bad} ({why}); using {path}", file=sys.stderr)
            self.check_compatible(checkpoint)
            return checkpoint
        if damaged:
            listed = "; ".join(f"{os.path.basename(bad)}: {why}" for bad, why in damaged)
            raise UserError(
                f"every checkpoint in {self.folder} is damaged ({listed}): remove them to start from the "
                f"beginning, or run without {setting('resume')}"
            )
        return None

    def check_compatible(self, checkpoint: Checkpoint) -> None:
        meta = checkpoint.meta
        mine, theirs = self.fingerprint, meta["fingerprint"]
        if mine != theirs:
            what = next(k for k in mine if mine.get(k) != theirs.get(k))
            raise UserError(
                f"checkpoint {checkpoint.path} is of another corpus or vocabulary ({what}: "
                f"{theirs.get(what)} there, {mine.get(what)} here): train on the same corpus, or pass "
                f"another {setting('checkpoint_dir')}"
            )
        for key in sorted(set(self.settings) | set(meta["settings"])):
            a, b = meta["settings"].get(key), self.settings.get(key)
            if a != b and not (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b)):
                raise UserError(
                    f"checkpoint {checkpoint.path} was made with {key}={a!r}, this run has {key}={b!r}: "
                    f"pass {setting(key, a)}, or another {setting('checkpoint_dir')}"
                )


class DamagedCheckpoint(Exception):
    pass


def read(path: str) -> Checkpoint:
    """Read and verify one checkpoint folder (sizes and CRC-32 of its files)."""
    try:
        with open(os.path.join(path, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise DamagedCheckpoint(f"meta.json unreadable: {e}") from None
    if meta.get("format") != FORMAT:
        raise DamagedCheckpoint(f"format {meta.get('format')!r}, this fastw2v reads {FORMAT}")
    for name, expect in meta.get("files", {}).items():
        try:
            size, crc = _crc_of_file(os.path.join(path, name))
        except OSError as e:
            raise DamagedCheckpoint(f"{name}: {e.strerror}") from None
        if (size, crc) != (expect["size"], expect["crc32"]):
            raise DamagedCheckpoint(
                f"{name} is {size:,} bytes with CRC {crc:08x}, written as {expect['size']:,} "
                f"bytes with CRC {expect['crc32']:08x}"
            )
    tensors = torch.load(os.path.join(path, "state.pt"), map_location="cpu", weights_only=True)
    state = dict(meta["state"])
    if "pairs" in state:  # a checkpoint may name the examples by skip-gram's name for them
        state["examples"] = state.pop("pairs")
    return Checkpoint(TrainState(**state), tensors, meta, path)


def _cpu_tensor(x) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    return x.detach().to("cpu").contiguous()


class StopSignals:
    """SIGINT and SIGTERM set ``requested`` instead of stopping the process; the loop checks it between chunks,
    saves a checkpoint and stops (``Interrupted``). Restores the previous handlers on exit. Only the main thread
    may install handlers; elsewhere this does nothing (a signal then ends the run as usual)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.requested = None
        self._previous = {}

    def __enter__(self):
        if not self.enabled:
            return self
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested is not None:  # a second signal: stop now, as without checkpoints
            signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))
            signal.raise_signal(signum)
            return
        self.requested = signal.Signals(signum).name
        print(
            f"\nfastw2v: {self.requested}: finishing the chunk and writing a checkpoint (again to stop at once)",
            file=sys.stderr,
        )

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


class RunCheckpoints:
    """One training run's checkpoints, as the training loop (``loop.fit``) uses them:

        run = RunCheckpoints(config, corpus, "hogwild")
        if run.resume_from: ... restore the matrices and the position ...
        with run:                                   # SIGINT / SIGTERM now ask for a checkpoint
            for each chunk: train it; run.chunk_done(snapshot, epoch_end)

    ``snapshot()`` returns (TrainState, the matrices by name, optimizer state_dict or None). Without
    ``config.checkpoint_dir`` it does nothing."""

    def __init__(self, config: Config, corpus: EncodedCorpus, backend: str, group=None):
        writer = group is None or group.is_writer  # of a distributed job, rank 0 reads and writes checkpoints
        self.enabled = config.checkpoint_dir is not None
        self.checkpointer = (
            Checkpointer(config.checkpoint_dir, config, corpus, backend) if self.enabled and writer else None
        )
        self.group = group
        self.resume_from = None
        if config.resume and writer:
            self.resume_from = self.checkpointer.load()
            if self.resume_from is None:
                print(
                    f"fastw2v: note: no checkpoint in {config.checkpoint_dir} yet: starting from the beginning",
                    file=sys.stderr,
                )
        if config.resume and group is not None:  # any number of ranks continues it: positions are whole chunks
            self.resume_from = group.broadcast_object(self.resume_from, "sending the checkpoint to every rank")
        self.signals = StopSignals(self.enabled)
        self.epochs = config.epochs

    @property
    def seconds_saving(self) -> float:
        """Time spent writing this run's checkpoints (part of its training time)."""
        return self.checkpointer.seconds_saving if self.checkpointer is not None else 0.0

    def __enter__(self):
        self.signals.__enter__()
        return self

    def __exit__(self, *exc):
        return self.signals.__exit__(*exc)

    def chunk_done(self, snapshot, epoch_end: bool = False) -> None:
        """After a chunk: write a checkpoint at an epoch's end, when one is due, or when a signal asked to stop
        (then raise Interrupted). In a distributed job all ranks decide together (any rank's signal stops all
        of them) and rank 0 writes, while the others wait."""
        if not self.enabled:
            return
        due = epoch_end or (self.checkpointer is not None and self.checkpointer.due())
        stop = self.signals.requested is not None
        if self.group is not None:
            due, stop = self.group.any([due, stop], "deciding whether to write a checkpoint")
        if not (due or stop):
            return
        state, matrices, optimizer_state = snapshot()
        path = None
        if self.checkpointer is not None:
            path = self.checkpointer.save(state, matrices, optimizer_state)
        if self.group is not None:
            self.group.barrier("rank 0 wrote a checkpoint")
        if stop:
            signal_name = self.signals.requested or "a signal to another rank"
            where = f"checkpoint {path}" if path is not None else "rank 0's checkpoint"
            raise Interrupted(
                f"stopped by {signal_name} after writing {where} (epoch "
                f"{min(state.epoch + 1, self.epochs)} of {self.epochs}): run it again with "
                f"{setting('resume', True)} to continue",
                self.signals.requested or "SIGTERM",
            )


def next_position(epoch: int, chunk: int, n_chunks: int) -> tuple[int, int]:
    """The (epoch, chunk) after chunk ``chunk`` of ``epoch``."""
    return (epoch + 1, 0) if chunk + 1 >= n_chunks else (epoch, chunk + 1)
