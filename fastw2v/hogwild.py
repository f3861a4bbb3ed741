"""The CPU backend: word2vec.c's per-pair SGD in numba, on lock-free ("Hogwild") threads.

Each chunk of the corpus goes through the same kernels as the batch builders (``kernels.subsample``, the
window draw of ``kernels.window_reach``, the pair order of ``kernels.fill_pairs``, negatives keyed by pair index
as in ``kernels.draw_negatives``), so with ``shuffle=False`` this trainer sees exactly the pairs and
negatives that ``NumbaBatches`` yields; it just trains on each pair as soon as it is made, without
materialising it. A chunk's pieces (documents) are cut into blocks of consecutive pieces, which the threads
claim one at a time, and the threads write into the shared matrices without locks, as word2vec.c and
gensim do, except for the rows of the most frequent words (``Config.hot_rows``): each thread trains those on
a private copy and merges its changes every ``MERGE_EVERY`` pairs. With one thread the result is a pure
function of the seed. ``Config.shared_negatives`` (HogBatch) trades that pair-for-pair identity for speed:
one set of negatives per center, shared by its window. Hierarchical softmax (``Config.hs``) trains each pair's
input row along its center's path in the Huffman tree (``huffman``), before or instead of the negatives; the rows
nearest the tree's root take the private copies (``HOT_NODES``). In a job of several ranks (``buckets``) each rank
trains lists of pairs instead, a bucket's at a time (``train_pairs``), with the same per-pair step.

Orientation: word2vec.c's. For a pair (center, context) the CONTEXT word's input row is trained against the
CENTER's output row, and the negatives replace the center (``l1 = last_word * layer1_size``, word2vec.c:502).
The batch builders follow the tutorial (center's input row against the context's output row); over a
symmetric window both orientations see the same set of pairs, so the two objectives are the same sum.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import kernels as K
from .batching import numba_threads
from .config import Config
from .cpu_kernels import Draws, LrDecay, Model, train_cbow_chunk, train_chunk, train_pairs
from .errors import UserError
from .huffman import HuffmanTree, build_tree, empty_tree
from .loop import BucketRound, Run, RunProgress, WindowedChunk, bucket_rounds, windowed
from .progress import compiling
from .stats import Weights, diverged
from .vectors import Vectors

MERGE_EVERY = 1024  # pairs between two merges of a thread's hot rows (Config.hot_rows) into the shared ones
BLOCKS_PER_THREAD = 32  # a chunk's pieces are cut into this many blocks per thread, which the threads claim in turn
HOT_NODES = 256  # hs, 2+ threads: the tree's rows nearest the root, which every pair writes, on per-thread copies


def init_weights(vocab_size: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Input rows uniform in [-0.5/d, 0.5/d) (word2vec.c:355, the tutorial's init), output rows zero.

    Zero output rows are word2vec.c's syn1neg (word2vec.c:349) and gensim's: the first updates then move
    only the output rows, and the input rows start learning from a clean signal. (The tutorial's uniform
    output init trains as well; zeros need no random draw.)
    """
    rng = np.random.default_rng(seed)
    w_in = (rng.random((vocab_size, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)
    return w_in, np.zeros((vocab_size, dim), dtype=np.float32)


def padded_rows(m: np.ndarray) -> np.ndarray:
    """A copy of m whose rows start on 64-byte cache-line boundaries, each padded with zeros to whole lines.

    With d = 100 a row is 400 bytes, so unpadded the rows share their first and last lines with their
    neighbours: two threads writing neighbouring rows (the most frequent words have neighbouring ids) then
    pass those lines between their cores although they share no row. Padded, a row is 7 lines of its own
    (12% more memory at d = 100, 1% at d = 300), and the kernels still read and write only its d columns.
    """
    rows, d = m.shape
    stride = -(-d // 16) * 16  # 16 float32 to a line
    buf = np.zeros(rows * stride + 16, dtype=np.float32)
    first = (-buf.ctypes.data % 64) // 4  # the first float32 on a line boundary
    out = buf[first : first + rows * stride].reshape(rows, stride)
    out[:, :d] = m
    return out


def shares(pair_offsets: np.ndarray, n: int) -> np.ndarray:
    """Piece bounds of ``n`` runs of consecutive pieces with about equal numbers of pairs, which together cover
    every piece once (``pair_offsets``: each piece's first pair index, and the total): the threads' blocks."""
    targets = np.linspace(0, pair_offsets[-1], n + 1)
    bounds = np.searchsorted(pair_offsets, targets, side="left")
    bounds[0], bounds[-1] = 0, pair_offsets.shape[0] - 1
    return np.maximum.accumulate(bounds).astype(np.int64)


def pair_blocks(y: np.ndarray, n: int) -> np.ndarray:
    """Bounds of about ``n`` blocks of a pair list with about equal numbers of pairs, each cut where the center
    (``y``) changes: a center's pairs stay in one block (shared negatives apply its window at its last pair)."""
    centers = np.concatenate([[0], np.flatnonzero(y[1:] != y[:-1]) + 1, [y.shape[0]]])
    return np.unique(centers[np.searchsorted(centers, np.linspace(0, y.shape[0], n + 1))]).astype(np.int64)


def round_blocks(step: BucketRound, owners: list[int], n_blocks: int) -> np.ndarray:
    """``train_pairs``' blocks of one step of the bucket rounds (``loop.BucketRound``): each owner's bucket cut into
    its share of ``n_blocks`` (``pair_blocks``), as rows (first pair, end, the owner: its centers' partition)."""
    rows = []
    for owner in owners:
        b = step.bucket(owner)
        cuts = b.start + pair_blocks(step.pairs.y[b], max(1, n_blocks // len(owners)))
        rows.append(np.column_stack([cuts[:-1], cuts[1:], np.full(cuts.shape[0] - 1, owner)]))
    return np.concatenate(rows).astype(np.int64)


class HogwildChunks:
    """The hogwild backend's chunk trainer (``loop.ChunkTrainer``): every pair of a chunk in text order
    (``train_chunk``; CBOW: every window, ``train_cbow_chunk``), or, with the run's buckets, bucket by bucket
    (``loop.bucket_rounds``, ``train_pairs``). Holds the padded matrices (``padded``: w_in, w_out and with hs syn1,
    its rows root first: ``tree_rows``), the tables and the threads' blocks; from the run's weights the input rows'
    lock factors and syn1's tree (``Weights.lockf``, ``Weights.tree``). Its kernels are compiled when it is built."""

    backend = "hogwild"

    @staticmethod
    def threads(config: Config):
        return numba_threads(config.threads)

    def __init__(self, run: Run):
        corpus, config, weights = run.corpus, run.config, run.weights
        self.corpus, self.config, self.weights, self.buckets = corpus, config, weights, run.buckets
        V, self.d = len(corpus.vocab), config.vector_size
        self.padded = {
            name: padded_rows(m[::-1] if name == "syn1" else m)  # syn1 root first: tree_rows
            for name, m in start_matrices(config, V, run.resumed, weights).items()
        }
        self.w_in, self.w_out = self.padded["w_in"], self.padded["w_out"]
        self.stats = run.new_stats("cpu", config.lr)
        self.sync = run.ring(self.w_in[:, : self.d], self.w_out[:, : self.d])
        self.n_threads = numba.get_num_threads()
        self.n_blocks = self.n_threads * BLOCKS_PER_THREAD
        self.keep_threshold = K.keep_thresholds(corpus.vocab.counts, config.sample)
        self.alias_table = K.build_alias_table(corpus.vocab.unigram_weights(config.ns_exponent))
        self.chunk_bounds = corpus.chunk_bounds(config.chunk_tokens)
        self.n_chunks = self.chunk_bounds.shape[0] - 1
        self.model = self.kernel_model(weights)
        self.warm_up()

    def kernel_model(self, weights: Weights | None) -> Model:
        """The kernels' ``Model``: the padded matrices, the hot rows, syn1's tree, the lock factors."""
        config, V = self.config, len(self.corpus.vocab)
        # one thread shares no lines; CBOW writes every row in place: a window writes twice a pair's rows, and the
        # merges of private copies cost it more than they save; with hs the tree's root rows are the private ones
        hot = min(config.hot_rows, V) if self.n_threads > 1 and config.sg and not config.hs else 0
        syn1 = self.padded.get("syn1", np.zeros((0, self.w_in.shape[1]), dtype=np.float32))
        tree = empty_tree(V)
        if config.hs:
            given = weights.tree if weights is not None else None
            tree = tree_rows(given if given is not None else build_tree(self.corpus.vocab.counts), V)
        hot_nodes = min(HOT_NODES, syn1.shape[0]) if self.n_threads > 1 and config.hot_rows else 0
        lockf = lock_factors(None if weights is None else weights.lockf, V)
        return Model(self.w_in, self.w_out, self.d, hot, MERGE_EVERY, syn1, hot_nodes, tree, lockf)

    def schedule(self, epoch: int, c: int, table: np.ndarray) -> tuple[Draws, LrDecay]:
        """The kernels' negatives (from ``table``) and learning rate for chunk c."""
        cfg, N = self.config, self.corpus.n_tokens
        first = int(self.corpus.starts[self.chunk_bounds[c]])
        negatives, coins = (
            int(K.stream_base(cfg.seed, epoch, stream, c)) for stream in (K.STREAM_NEGATIVE, K.STREAM_NEGATIVE_COIN)
        )
        return (
            Draws(table, negatives, coins, cfg.negative, cfg.resolved_shared_negatives()),
            LrDecay(cfg.lr, cfg.end_lr, float(epoch * N + first), float(cfg.epochs * N)),
        )

    def train(self, epoch: int, c: int, progress: RunProgress) -> None:
        """Train chunk c of ``epoch``; its examples and loss (a job's: every rank's) go to ``progress``."""
        chunk = windowed(self.corpus, self.chunk_bounds, c, self.keep_threshold, self.config, epoch)
        figures = np.zeros((self.n_threads, 2), dtype=np.float64)  # each thread's loss and examples
        if self.buckets is None:
            kernel, arguments = self.text_order(epoch, c, chunk, shares(chunk.pair_offsets, self.n_blocks))
            kernel(*arguments, figures)
        else:
            self.train_buckets(epoch, c, chunk, figures)
        self.report(epoch, c, figures, progress)

    def text_order(self, epoch: int, c: int, chunk: WindowedChunk, blocks: np.ndarray) -> tuple:
        """The kernel that trains chunk c in text order, over ``blocks`` of its pieces (skip-gram: every pair,
        ``train_chunk``; CBOW: every window, ``train_cbow_chunk``), and its arguments but the last: the threads'
        figures, which it writes."""
        cfg, draws_and_lr = self.config, self.schedule(epoch, c, self.alias_table)
        chunk_args = (chunk.kept, chunk.kept_starts, chunk.starts)
        model = self.model if cfg.sg else self.model.for_cbow()  # CBOW's kernel takes no hot rows
        window = (cfg.window, cfg.shrink_windows, chunk.window_base, model, *draws_and_lr)
        if cfg.sg:
            return train_chunk, (*chunk_args, chunk.pair_offsets, blocks, *window)
        return train_cbow_chunk, (*chunk_args, blocks, *window, bool(cfg.cbow_mean))

    def train_buckets(self, epoch: int, c: int, chunk: WindowedChunk, figures: np.ndarray) -> None:
        """Chunk c bucket by bucket (``loop.bucket_rounds``): each step's buckets (one per owner this process
        trains) in one call of ``train_pairs``, whose figures are added to ``figures``."""
        buckets, cfg = self.buckets, self.config
        positions = K.kept_positions(chunk.starts, chunk.kept_starts)
        draws, lr_decay = self.schedule(epoch, c, buckets.sampler)
        step_figures = np.zeros_like(figures)
        span_tokens, where = cfg.resolved_span_tokens(self.corpus.n_tokens), f"chunk {c + 1}, epoch {epoch + 1}"
        for step in bucket_rounds(buckets, self.sync, chunk, cfg, span_tokens, True, where):
            pairs, blocks = step.pairs, round_blocks(step, buckets.owners, self.n_blocks)
            train_pairs(
                chunk.kept,
                pairs.x,
                pairs.y,
                pairs.pair_index,
                positions,
                blocks,
                buckets.sampler_starts,
                self.model,
                draws,
                lr_decay,
                step_figures,
            )
            figures += step_figures

    def report(self, epoch: int, c: int, figures: np.ndarray, progress: RunProgress) -> None:
        """Chunk c's examples and loss (the whole job's: every rank decides on the same figures) to ``progress``. A
        loss that is not finite stops the run: nothing after it can be used."""
        loss, examples = float(figures[:, 0].sum()), int(figures[:, 1].sum())
        if self.sync is not None:
            loss, examples = self.sync.group.sum([loss, examples], f"summing the loss of chunk {c + 1}")
        if examples:
            if not math.isfinite(loss / examples):
                raise diverged(self.stats.start_lr)
            progress.add_loss(epoch, loss, int(examples))
        N, epochs = self.corpus.n_tokens, self.config.epochs
        tokens_done = int(self.corpus.starts[self.chunk_bounds[c + 1]])
        lr = self.config.lr_at((epoch * N + tokens_done) / (epochs * N))
        progress.advance(epoch, int(examples), tokens_done, lr=lr)

    def read_loss(self, epoch: int, progress: RunProgress) -> None:
        """Nothing to read: each chunk's loss goes to ``progress`` with it."""

    def matrices(self) -> dict[str, np.ndarray]:
        """w_in, w_out (views) and with hs syn1 (a copy, in the tree's order), without the padding."""
        return {
            name: np.ascontiguousarray(m[::-1, : self.d]) if name == "syn1" else m[:, : self.d]
            for name, m in self.padded.items()
        }

    def optimizer_state(self) -> None:
        return None

    def input_vectors(self) -> np.ndarray:
        return self.w_in[:, : self.d]

    def synchronize(self) -> None:
        """Nothing queued: the kernels return when their work is done."""

    def warm_up(self) -> None:
        """Make numba compile (or load from its cache) the kernels this run calls, on no block at all, before the
        clock starts."""
        if self.n_chunks < 1:  # a corpus without a chunk
            return
        with compiling():
            chunk = windowed(self.corpus, self.chunk_bounds, 0, self.keep_threshold, self.config, 0)
            figures = np.zeros((self.n_threads, 2), dtype=np.float64)
            kernel, arguments = self.text_order(0, 0, chunk, np.zeros(1, dtype=np.int64))
            kernel(*arguments, figures)
            if self.buckets is not None:
                pairs = self.buckets.span_pairs(
                    chunk.kept, chunk.kept_starts, chunk.pair_offsets, (0, 1), self.config, chunk.window_base, True
                )
                positions = K.kept_positions(chunk.starts, chunk.kept_starts)
                no_blocks = np.zeros((0, 3), dtype=np.int64)
                schedule = self.schedule(0, 0, self.buckets.sampler)
                sampler_starts = self.buckets.sampler_starts
                train_pairs(
                    chunk.kept,
                    pairs.x,
                    pairs.y,
                    pairs.pair_index,
                    positions,
                    no_blocks,
                    sampler_starts,
                    self.model,
                    *schedule,
                    figures,
                )

    def result(self) -> Vectors:
        """The trained vectors (``Vectors`` copies them without the padding); with the run's weights, the matrices
        back into the caller's."""
        config, weights = self.config, self.weights
        w_in, w_out = self.w_in[:, : self.d], self.w_out[:, : self.d]
        if weights is not None:
            weights.w_in[...] = w_in
            if config.negative:
                weights.w_out[...] = w_out
            if config.hs and weights.syn1 is not None:
                weights.syn1[...] = self.matrices()["syn1"]
        final = w_in if config.final_vectors == "in" else (w_in + w_out) / np.float32(2)
        return Vectors(self.corpus.vocab.words, final, self.corpus.vocab.counts)


def start_matrices(config: Config, V: int, resumed, weights: Weights | None) -> dict[str, np.ndarray]:
    """The matrices a run starts from, by name: a checkpoint's (``resumed``), the caller's ``weights``, or fresh
    (``init_weights``; the tree's rows zero, as word2vec.c's syn1). Without negatives w_out has no rows."""
    d = config.vector_size
    if resumed is not None:
        found = {name: t.numpy() for name, t in resumed.tensors.items() if name in ("w_in", "w_out", "syn1")}
    elif weights is not None:
        found = {"w_in": weights.w_in, "w_out": weights.w_out, "syn1": weights.syn1}
    else:
        w_in, w_out = init_weights(V, d, config.seed)
        found = {"w_in": w_in, "w_out": w_out, "syn1": None}
    matrices = {"w_in": found["w_in"], "w_out": found["w_out"] if config.negative else np.zeros((0, d), np.float32)}
    if config.hs:
        syn1 = found.get("syn1")
        matrices["syn1"] = np.zeros((V, d), dtype=np.float32) if syn1 is None else syn1
    return matrices


def tree_rows(tree: HuffmanTree, V: int) -> HuffmanTree:
    """The tree as the kernels take it: syn1's rows in reverse (the root, inner node V - 2, at row 1; row 0 is the
    unused row V - 1), so the nodes nearest the root, which every pair writes, are the first rows and can be hot
    (``HOT_NODES``) as the most frequent words are. ``HogwildChunks.matrices`` turns syn1 back."""
    if tree.points.shape[0] and (tree.points.min() < 0 or tree.points.max() > V - 2):
        raise UserError(
            f"the Huffman tree points to inner nodes outside 0..{V - 2} for {V} words: rebuild the "
            "model's vocabulary (build_vocab) or load it with the library that saved it"
        )
    return HuffmanTree(tree.codes, (V - 1 - tree.points.astype(np.int64)).astype(np.int32), tree.offsets)


def lock_factors(lockf: np.ndarray | None, V: int) -> np.ndarray:
    """gensim's ``vectors_lockf`` as the kernels take it: float32, one factor for every row or one per row."""
    if lockf is None:
        return np.ones(1, dtype=np.float32)
    lockf = np.ascontiguousarray(np.asarray(lockf, dtype=np.float32).reshape(-1))
    if lockf.shape[0] not in (1, V):
        raise UserError(
            f"vectors_lockf has {lockf.shape[0]} factors for {V} words: give one per word, e.g. "
            f"np.ones({V}, dtype=np.float32), or one for all"
        )
    return lockf
