"""Every hyper-parameter in one dataclass, with gensim's ``Word2Vec`` names where gensim has one.

Each default carries its reason. ``__post_init__`` validates and raises ``UserError`` with a one-line
message naming the bad value and the fix; the CLI builds its flags from these fields.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .errors import UserError, setting

OPTIMIZERS = ("sgd", "adam", "sparse_adam")
# Adam's default start learning rate is SCALE / sqrt(optimizer steps): Adam moves a parameter by about lr a
# step whatever its gradient, so fewer steps need a larger rate (the calibration: docs/decisions.md).
ADAM_LR_SCALE = {"adam": 0.356, "sparse_adam": 0.534}
BACKENDS = ("auto", "torch", "hogwild")
TOKENIZERS = ("simple", "whitespace", "split")
FINAL_VECTORS = ("in", "avg")
SGD_KERNELS = ("auto", "triton", "torch")
ENCODING_ERRORS = ("strict", "replace", "skip")  # what a .txt file's bytes that are not UTF-8 become
CPU_BATCH_SIZE, GPU_BATCH_SIZE = 16384, 65536  # Config.batch_size's default on each kind of device


def option(default, help: str):
    """A Config field with its default and its help text (what it is, and why the default is what it is)."""
    return field(default=default, metadata={"help": help})


@dataclass
class Config:
    """Every setting of a run. Each field's ``metadata["help"]`` says what it is and why its default is what it
    is (the command line's --help shows it)."""

    # --- the model and objective (word2vec / gensim defaults) ---
    sg: int = option(
        1,
        "1: skip-gram, the tutorial's model (each context word predicts the center); 0: CBOW, gensim's and "
        "word2vec.c's default model (the window's mean input row predicts the center)",
    )
    cbow_mean: int = option(
        1,
        "CBOW: 1 = the mean of the window's input rows (word2vec.c), 0 = their sum (gensim's cbow_mean=0)",
    )
    vector_size: int = option(100, "embedding dimension d; the tutorial's EMBED_DIM")
    window: int = option(5, "maximum distance between center and context")
    shrink_windows: bool = option(True, "word2vec.c/gensim draw a reach in [1, window] per center; False = static")
    negative: int = option(5, "negatives per (center, context) pair, k; 0 turns negative sampling off (with --hs)")
    hs: bool = option(
        False,
        "hierarchical softmax (word2vec.c's -hs 1, gensim's hs=1): each word predicted along its path in a Huffman "
        "tree of the vocabulary; alone with --negative 0, or beside the negatives; trained by the hogwild backend",
    )
    ns_exponent: float = option(0.75, "negatives ~ count ** ns_exponent (Mikolov et al. 2013)")
    sample: float = option(1e-3, "sub-sampling threshold; 0 turns it off. word2vec.c's default")
    min_count: int = option(5, "words seen fewer times are dropped before windowing, as in word2vec.c")
    max_vocab_size: int | None = option(
        None,
        "keep only the most frequent words (None: no cap); gensim's max_final_vocab",
    )
    max_counted_words: int | None = option(
        20_000_000,
        "distinct words held while counting; when full, those seen at most n times so far are dropped, n = 1, 2, ... "
        "(word2vec.c's rule, gensim's max_vocab_size); None: no bound",
    )
    # --- optimisation ---
    epochs: int = option(5, "passes over the corpus")
    alpha: float | None = option(
        None,
        "start learning rate; None: 0.025 for sgd/hogwild (word2vec.c); for adam 0.356 / sqrt(optimizer steps), 0.534 "
        "/ sqrt(steps) for sparse_adam (docs/quality.md; the tutorial's Adam: --alpha 0.001 --min-alpha 0.001)",
    )
    min_alpha: float | None = option(
        None,
        "lr decays linearly from alpha to min_alpha over all epochs; None: 1e-4 for sgd/hogwild (word2vec.c), 0 for "
        "adam/sparse_adam",
    )
    optimizer: str = option("sgd", "sgd: fused manual-gradient step; adam: tutorial's dense Adam; sparse_adam")
    batch_size: int | None = option(
        None,
        "pairs per batch of the torch backend; None: 65536 on a GPU (the fused step's speed and quality were measured "
        "there), 16384 on a CPU",
    )
    sgd_kernel: str = option(
        "auto",
        "torch backend, sgd: triton = the fused SGNS kernels (fastw2v.fused; needs Triton, which CUDA builds of torch "
        "bring), torch = tensor ops (SkipGramNS.sgd_step); auto: triton on a GPU when it imports",
    )
    trust: float | None = option(
        16.0,
        'sgd: per-row step bound for large batches (model.sgd_step); docs/quality.md, "Large batches"',
    )
    backend: str = option(
        "auto",
        "torch (batches + SkipGramNS) or hogwild (numba, per-pair SGD); auto: hogwild on a CPU, torch on a GPU (adam "
        "and sparse_adam: torch)",
    )
    device: str = option("auto", "torch device; auto = cuda when available, else cpu")
    workers: int = option(0, "CPU threads for the numba kernels; 0 = all cores")
    shared_negatives: bool | None = option(
        None,
        "hogwild, skip-gram: one set of negatives per center for its whole window (Ji et al. 2016, HogBatch), its "
        "updates a small matrix product: fewer row reads, vectors as good as gensim's (docs/quality.md); None: on for "
        "hogwild's skip-gram; False: word2vec.c's negatives per pair",
    )
    hot_rows: int = option(
        256,
        "hogwild skip-gram, 2+ threads: the N most frequent words' rows are trained on per-thread copies, merged every"
        " 1024 pairs (less cache-line traffic between cores); with hs, the tree's 256 rows nearest the root too; 0 = "
        "off",
    )
    seed: int = option(1, "one seed drives init, sub-sampling, windows, negatives and shuffling")
    shuffle: bool = option(True, "shuffle pairs within a chunk (the tutorial's DataLoader(shuffle=True))")
    # --- corpus ---
    tokenizer: str = option(
        "simple",
        "simple: lowercase, strip HTML tags, words with inner apostrophes; whitespace: lowercase, split on white space"
        " (the tutorial); split: split on white space, case kept (gensim)",
    )
    max_piece_length: int = option(10000, "longer documents are cut into pieces (gensim's MAX_WORDS_IN_BATCH)")
    encoding_errors: str = option(
        "strict",
        "a byte of a .txt file that is not UTF-8: strict = an error naming its file, line and offset; replace = "
        "U+FFFD; skip = dropped",
    )
    chunk_tokens: int = option(1 << 20, "tokens per chunk: memory is O(chunk), not O(corpus)")
    # --- the result ---
    final_vectors: str = option("in", "in: word2vec's input vectors; avg: the tutorial's (in + out) / 2")
    # --- long runs ---
    checkpoint_dir: str | None = option(
        None,
        "write checkpoints here (both matrices, optimizer state, position) at each epoch's end, every checkpoint_every"
        " minutes and on SIGINT/SIGTERM; None: none",
    )
    checkpoint_every: float = option(
        15.0,
        "minutes between checkpoints within an epoch: a kill loses at most this much work",
    )
    resume: bool = option(
        False,
        "continue from the newest checkpoint in checkpoint_dir (start from the beginning if there is none)",
    )
    # --- several processes (torchrun) ---
    sync_timeout: float = option(
        120.0,
        "seconds a rank waits for the others at a sync before the job stops with an error naming the missing rank",
    )
    span_tokens: int | None = option(
        None,
        "a job of several ranks trains the text in spans of this many tokens (at most a chunk), each in one round per "
        "rank, handing the input rows it wrote to the next rank as it goes: shorter spans keep the order of the pairs "
        "closer to one process's (quality at 1 epoch), longer ones hand on fewer rows and take fewer, larger steps "
        "(GPUs, Ethernet); None: 1/64 of the corpus rounded down to a power of two, from 262,144 to 16,777,216, and at"
        " most --chunk-tokens (docs/distributed.md)",
    )

    def __post_init__(self):
        self._check_numbers()
        self._check_flags()
        self._check_ranges()
        self._check_choices()
        self._check_combinations()

    def _check_numbers(self) -> None:
        """Each number a number of its kind (whole, >= 1 or >= 0, finite): a one-line error."""
        if self.batch_size is None:
            self.batch_size = GPU_BATCH_SIZE if self._device_type() == "cuda" else CPU_BATCH_SIZE
        for name in ("vector_size", "window", "epochs", "batch_size", "max_piece_length", "chunk_tokens"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise UserError(
                    f"{name} must be a whole number >= 1, got {value!r}: pass e.g. {setting(name, _default(name))}"
                )
            setattr(self, name, int(value))
        for name, fix in (
            ("negative", f"pass 0 to turn negative sampling off (with {setting('hs', True)})"),
            ("workers", "pass 0 for all cores"),
            ("hot_rows", "pass 0 to turn it off"),
            ("seed", f"pass e.g. {setting('seed', 1)}"),
            ("min_count", f"pass e.g. {setting('min_count', 5)} (0 keeps every word)"),
        ):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise UserError(f"{name} must be a whole number >= 0, got {value!r}: {fix}")
            setattr(self, name, int(value))
        if self.seed >= 2**63:
            raise UserError(f"seed must be below 2**63, got {self.seed}: pass a smaller {setting('seed')}")
        for name in ("max_vocab_size", "max_counted_words", "span_tokens"):
            value = getattr(self, name)
            if value is not None:
                if not _is_int(value) or value < 1:
                    raise UserError(
                        f"{name} must be a whole number >= 1 or None, got {value!r}: drop {setting(name)} or raise it"
                    )
                setattr(self, name, int(value))
        for name, example in (
            ("ns_exponent", 0.75),
            ("sample", 1e-3),
            ("alpha", 0.025),
            ("min_alpha", 1e-4),
            ("trust", 16),
            ("checkpoint_every", 15),
            ("sync_timeout", 120),
        ):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value)
            ):
                raise UserError(f"{name} must be a finite number, got {value!r}: pass e.g. {setting(name, example)}")

    def _check_flags(self) -> None:
        """Each 0/1 setting 0 or 1 and each flag a bool (gensim's hs=0/1 and numpy's bool_ accepted)."""
        if self.hs in (0, 1) and not isinstance(self.hs, float):  # gensim's hs=0 / hs=1
            self.hs = bool(self.hs)
        for name in ("sg", "cbow_mean"):
            if getattr(self, name) not in (0, 1) or isinstance(getattr(self, name), float):
                raise UserError(
                    f"{name} must be 0 or 1, got {getattr(self, name)!r}: pass {setting(name, 0)} or {setting(name, 1)}"
                )
            setattr(self, name, int(getattr(self, name)))
        for name in ("hs", "shrink_windows", "shared_negatives", "shuffle", "resume"):
            if name == "shared_negatives" and self.shared_negatives is None:
                continue
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise UserError(f"{name} must be True or False, got {getattr(self, name)!r}")
            setattr(self, name, bool(getattr(self, name)))

    def _check_ranges(self) -> None:
        """Numbers in their range: a one-line error naming the value and a good one."""
        for name, value, bound, example in (
            ("checkpoint_every", self.checkpoint_every, "> 0 minutes", 15),
            ("sync_timeout", self.sync_timeout, "> 0 seconds", 120),
            ("trust", self.trust, "> 0", 16),
            ("alpha", self.alpha, "> 0", 0.025),
        ):
            if value is not None and value <= 0:
                raise UserError(f"{name} must be {bound}, got {value}: pass e.g. {setting(name, example)}")
        if self.sample < 0:
            raise UserError(f"sample must be >= 0, got {self.sample}: use 0 to turn sub-sampling off, or e.g. 1e-3")
        if self.min_alpha is not None and self.min_alpha < 0:
            raise UserError(f"min_alpha must be >= 0, got {self.min_alpha}: pass e.g. {setting('min_alpha', 0.0001)}")
        known_start = self.alpha is not None or self.optimizer not in ADAM_LR_SCALE  # Adam's needs the step count
        if self.min_alpha is not None and known_start and self.min_alpha > self.start_lr():
            raise UserError(
                f"min_alpha ({self.min_alpha}) is above alpha ({self.start_lr()}): the learning rate decays "
                "from alpha to min_alpha; pass a min_alpha <= alpha"
            )
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = os.fspath(self.checkpoint_dir)
        if self.resume and self.checkpoint_dir is None:
            raise UserError(
                f"resume continues from a checkpoint folder: pass {setting('checkpoint_dir', 'DIR')} with "
                f"{setting('resume', True)}"
            )

    def _check_choices(self) -> None:
        """Names among the choices, and a device that exists."""
        for name, allowed in (
            ("optimizer", OPTIMIZERS),
            ("backend", BACKENDS),
            ("tokenizer", TOKENIZERS),
            ("final_vectors", FINAL_VECTORS),
            ("sgd_kernel", SGD_KERNELS),
            ("encoding_errors", ENCODING_ERRORS),
        ):
            if getattr(self, name) not in allowed:
                raise UserError(f"unknown {name} {getattr(self, name)!r}: choose one of {', '.join(allowed)}")
        if self.device != "auto":
            import torch

            try:
                device = torch.device(self.device)
            except RuntimeError:
                raise UserError(f"unknown device {self.device!r}: use auto, cpu, cuda or cuda:N") from None
            if device.type == "cuda" and not torch.cuda.is_available():
                raise UserError(
                    f"device {self.device!r} asked for but no CUDA GPU is available: use {setting('device', 'cpu')}"
                )

    def _check_combinations(self) -> None:
        """Settings that go together: a one-line error that says which to drop or add."""
        sgd, hogwild = setting("optimizer", "sgd"), setting("backend", "hogwild")
        if self.backend == "hogwild" and self.optimizer != "sgd":
            raise UserError(
                f"the hogwild backend trains with per-pair SGD, not {self.optimizer}: drop {setting('optimizer')} or "
                f"pass {setting('backend', 'torch')}"
            )
        if not self.sg and self.optimizer != "sgd":
            raise UserError(
                f"CBOW trains with SGD (word2vec.c's and gensim's), not {self.optimizer}: drop {setting('optimizer')}, "
                f"or pass {setting('sg', 1)}"
            )
        if not self.negative and not self.hs:
            raise UserError(
                f"negative=0 and no hs leave nothing to train: pass {setting('negative', 5)} (negative sampling) or "
                f"{setting('hs', True)} (hierarchical softmax), or both"
            )
        if not self.negative and self.final_vectors == "avg":
            raise UserError(
                "final_vectors='avg' averages the input rows with the negatives' output rows, and negative=0 has "
                f"none: pass {setting('final_vectors', 'in')}, or {setting('negative', 5)}"
            )
        if self.hs and (self.backend == "torch" or self.optimizer != "sgd"):
            raise UserError(
                f"hierarchical softmax (hs) trains on the hogwild backend (per-pair SGD on the CPU), not on torch "
                f"{self.optimizer}: pass {hogwild} {sgd}, or drop {setting('hs')}"
            )
        if self.shared_negatives is True and not self.sg:
            raise UserError(
                "shared_negatives shares a center's negatives among its skip-gram pairs, and CBOW already draws one "
                f"set per window: drop {setting('shared_negatives')}, or pass {setting('sg', 1)}"
            )
        if self.shared_negatives is True and (self.backend == "torch" or self.optimizer != "sgd"):
            raise UserError(
                f"shared_negatives is an option of the hogwild backend (per-pair SGD), not of torch "
                f"{self.optimizer}: drop {setting('shared_negatives')}, or pass {hogwild} {sgd}"
            )

    def start_lr(self, steps: int | None = None) -> float:
        """alpha, else the optimizer's default: 0.025 for sgd/hogwild; for Adam it depends on the number of
        optimizer steps of the whole run (ADAM_LR_SCALE)."""
        if self.alpha is not None:
            return self.alpha
        if self.optimizer in ADAM_LR_SCALE:
            if not steps:
                raise ValueError(f"{self.optimizer}'s default learning rate depends on the number of steps: pass steps")
            return ADAM_LR_SCALE[self.optimizer] / math.sqrt(steps)
        return 0.025

    @property
    def lr(self) -> float:
        """The start learning rate of sgd / hogwild, or an explicit alpha (Adam's default needs the step
        count: start_lr(steps))."""
        return self.start_lr()

    @property
    def end_lr(self) -> float:
        """The learning rate at the end of training (Config.min_alpha resolved)."""
        if self.min_alpha is not None:
            return self.min_alpha
        return 0.0 if self.optimizer in ADAM_LR_SCALE else 1e-4

    def lr_at(self, progress: float, steps: int | None = None) -> float:
        """Linear decay from start_lr(steps) to end_lr; progress is the share of training done, in [0, 1]."""
        start = self.start_lr(steps)
        return start - (start - self.end_lr) * min(max(progress, 0.0), 1.0)

    @property
    def threads(self) -> int:
        return self.workers or os.cpu_count() or 1

    def _device_type(self) -> str:
        if self.device == "auto":
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device.split(":")[0]

    def torch_device(self):
        import torch

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def resolved_sgd_kernel(self) -> str:
        """auto: the fused Triton kernels where they run (a CUDA device with Triton), else torch's ops."""
        from . import fused

        device = self.torch_device()
        if self.sgd_kernel == "torch" or (
            self.sgd_kernel == "auto" and not (device.type == "cuda" and fused.available(device))
        ):
            return "torch"
        if not fused.available(device):
            why = (
                (fused.UNAVAILABLE or "Triton is not installed (pip install triton)")
                if fused.triton is None
                else "the Triton kernels run on CUDA devices"
            )
            raise UserError(
                f"sgd_kernel='triton' on {device}: {why}; drop {setting('sgd_kernel')} or pass "
                f"{setting('sgd_kernel', 'torch')}"
            )
        return "triton"

    def resolved_span_tokens(self, n_tokens: int) -> int:
        """span_tokens, or by default 1/64 of the corpus rounded down to a power of two, from 2^18 to 2^24 tokens:
        short enough that the buckets' order costs a small corpus nothing at 1 epoch, long enough that a large
        one's rounds fill a GPU's steps and the hand-overs' messages. Never more than a chunk (``chunk_tokens``):
        spans cut a chunk."""
        if self.span_tokens is not None:
            return min(self.span_tokens, self.chunk_tokens)
        return min(1 << min(max(int(max(n_tokens, 1) // 64).bit_length() - 1, 18), 24), self.chunk_tokens)

    def resolved_shared_negatives(self) -> bool:
        """Whether hogwild's skip-gram shares a center's negatives among its window's pairs: shared_negatives, or
        by default yes (docs/quality.md, the seed study). CBOW draws one set per window anyway."""
        return bool(self.sg) and self.negative > 0 and self.shared_negatives is not False

    def resolved_backend(self) -> str:
        """auto: the torch backend on a GPU; on a CPU the per-pair numba trainer (hogwild), the faster there."""
        if self.backend != "auto":
            return self.backend
        if self.hs:  # hierarchical softmax: hogwild's alone, on any machine
            return "hogwild"
        if self.optimizer != "sgd":  # adam / sparse_adam are torch optimizers; hogwild is per-pair SGD
            return "torch"
        return "hogwild" if self.torch_device().type == "cpu" else "torch"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def check_keys(cls, keys) -> None:
        """UserError for a name that is not a Config field, with the closest field when there is one."""
        known = [f.name for f in fields(cls)]
        for key in keys:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known settings: {', '.join(sorted(known))}"
                raise UserError(f"unknown setting {key!r}: {hint}")

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        cls.check_keys(d)
        return cls(**d)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _default(name: str):
    return next(f.default for f in fields(Config) if f.name == name)
