"""The Triton kernels of the fused SGD steps (``fused``): ``model.sgd_step``'s arithmetic, and CBOW's
(``model.cbow_sgd_step``), in two kernels each, with no (B, 1+k, d) temporary.

* ``score_kernel``, per block of pairs: loads the center's input row v and the 1 + k output rows u_j once (the
  negatives are drawn in the kernel from the alias table, with the counter-based hash of ``draws.draw``, or read
  from a tensor); computes the scores, the loss, g_j = label - σ(s_j) (0 for a negative equal to the positive:
  word2vec.c's skip) and grad_v = Σ_j g_j u_j in registers; adds |v|² to h_out[t_j] and Σ_j |u_j|² to h_in[c] (the
  trust region's per-row sums, ``model.sgd_step``) with atomics; stores v, grad_v and g for the second kernel;
* ``update_kernel``: in[c] += lr·s_c·grad_v and out[t_j] += lr·s_t·g_j·v with atomic adds, where
  s_r = min(1, trust / (lr·h_r)).

CBOW's kernels do the same for windows: ``cbow_score_kernel`` builds each window's hidden layer from its context
rows and computes the scores, g and grad_h; ``cbow_update_kernel`` adds grad_h to every context row and g·h to every
target's output row (its negatives are given).

Two launches, because a row's trust factor needs the whole batch's sums, and because every update is computed from
the values before the step, as the reference does: the first kernel only reads the matrices, the second only writes
them. What crosses between them is 2·d + 1 + k floats a pair (v, grad_v, g), read back in order.

Triton ships with the CUDA builds of torch. Without it (a CPU install), or with a Triton too old for these kernels,
``triton`` is None, ``UNAVAILABLE`` says why and no kernel is defined; with ``TRITON_INTERPRET=1`` the kernels run on
the CPU (numpy), which is how the tests check them against the reference.

Names in the kernels: c the centers' word ids, p the positives' (a CBOW window's center is c), t a target's row and j
its place (0 the positive, then the negatives), x a context row of a window, C the window's width, K the negatives,
D a row's width.
"""

from __future__ import annotations

import inspect

try:
    import triton
    import triton.language as tl
except ImportError:  # a CPU install: the torch reference step is used
    triton = None
UNAVAILABLE = "Triton is not installed (pip install triton)" if triton is None else ""

if triton is not None and "do_not_specialize_on_alignment" not in inspect.signature(triton.jit).parameters:
    UNAVAILABLE = f"this Triton ({triton.__version__}) is too old for the fused kernels: pip install -U triton"
    triton = None

if triton is not None:

    @triton.jit
    def _hash32(x):
        """draws.hash32 on uint32 (its int64 arithmetic masked to 32 bits is uint32 arithmetic)."""
        x ^= x >> 16
        x *= 0x7FEB352D
        x ^= x >> 15
        x *= 0x846CA68B
        x ^= x >> 16
        return x

    @triton.jit
    def _draw(base, index):
        """draws.draw(base, index): hash32(base + index * GOLDEN), on the low 32 bits."""
        x = (base & 0xFFFFFFFF).to(tl.uint32) + (index & 0xFFFFFFFF).to(tl.uint32) * 0x9E3779B9
        return _hash32(x)

    @triton.jit
    def _log_sigmoid(x):
        return tl.minimum(x, 0.0) - tl.log(1.0 + tl.exp(-tl.abs(x)))

    @triton.jit
    def _windows(center_ptr, n, D: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_D: tl.constexpr):
        """A program's block of pairs or CBOW windows: their rows in the batch, which exist, a row's columns, the
        (rows × columns) mask and the centers' word ids."""
        rows = tl.program_id(0).to(tl.int64) * BLOCK_P + tl.arange(0, BLOCK_P)
        ok = rows < n
        cols = tl.arange(0, BLOCK_D)
        tile = ok[:, None] & (cols < D)[None, :]
        c = tl.load(center_ptr + rows, mask=ok, other=0).to(tl.int64)
        return rows, ok, cols, tile, c

    @triton.jit
    def _pairs(center_ptr, pos_ptr, n, D: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_D: tl.constexpr):
        """``_windows`` and the pairs' context word ids."""
        rows, ok, cols, tile, c = _windows(center_ptr, n, D, BLOCK_P, BLOCK_D)
        p = tl.load(pos_ptr + rows, mask=ok, other=0).to(tl.int64)
        return rows, ok, cols, tile, c, p

    @triton.jit
    def _target_gradient(s, j: tl.constexpr, live):
        """g = label - σ(s) of target j (label 1 for j = 0, the positive) and its loss; 0 where it is skipped."""
        if j == 0:
            g = 1.0 - tl.sigmoid(s)
            loss = -_log_sigmoid(s)
        else:
            g = -tl.sigmoid(s)
            loss = -_log_sigmoid(-s)
        return tl.where(live, g, 0.0), tl.where(live, loss, 0.0)

    @triton.jit
    def _negative(negs_ptr, rows, ok, c, j: tl.constexpr, K: tl.constexpr):
        """Negative j - 1 of each row, and whether it counts (it is not the row's positive: word2vec.c's skip)."""
        t = tl.load(negs_ptr + rows * K + (j - 1), mask=ok, other=0).to(tl.int64)
        return t, ok & (t != c)

    @triton.jit
    def _add_rows(w, t, live, scale, x, lr, trust, h, cols, tile, D: tl.constexpr, TRUST: tl.constexpr):
        """w[t] += lr·s_t·scale·x for each live row, s_t = min(1, trust / (lr·h[t])) (the trust region, with
        TRUST), with atomic adds."""
        step = scale * lr
        if TRUST:
            step = step * tl.minimum(trust / (lr * tl.load(h + t, mask=live, other=1.0)), 1.0)
        tl.atomic_add(w + t[:, None] * D + cols[None, :], step[:, None] * x, mask=live[:, None] & tile, sem="relaxed")

    @triton.jit(
        do_not_specialize=["n", "first_row", "base_col", "base_coin", "n_alias"],
        do_not_specialize_on_alignment=["center_ptr", "pos_ptr", "negs_ptr"],
    )
    def score_kernel(
        w_in,
        w_out,
        center_ptr,
        pos_ptr,
        negs_ptr,
        alias_ptr,
        g_ptr,
        v_ptr,
        gv_ptr,
        h_in,
        h_out,
        loss_ptr,
        n,
        first_row,
        base_col,
        base_coin,
        n_alias,
        D: tl.constexpr,
        K: tl.constexpr,
        BLOCK_P: tl.constexpr,
        BLOCK_D: tl.constexpr,
        DRAW: tl.constexpr,
        TRUST: tl.constexpr,
    ):
        rows, ok, cols, tile, c, p = _pairs(center_ptr, pos_ptr, n, D, BLOCK_P, BLOCK_D)
        v = tl.load(w_in + c[:, None] * D + cols[None, :], mask=tile, other=0.0).to(tl.float32)
        v_sq = tl.sum(v * v, axis=1)
        grad_v = tl.zeros((BLOCK_P, BLOCK_D), dtype=tl.float32)
        u_sq = tl.zeros((BLOCK_P,), dtype=tl.float32)
        loss = tl.zeros((BLOCK_P,), dtype=tl.float32)
        for j in tl.static_range(K + 1):
            if j == 0:
                t = p
                live = ok
            else:
                if DRAW:  # batching.DeviceBatches.negatives: slot (first_row + row) * K + j - 1 of the stream
                    slot = (first_row + rows) * K + (j - 1)
                    col = (_draw(base_col, slot).to(tl.int64) * n_alias) >> 32
                    threshold = tl.load(alias_ptr + 2 * col, mask=ok, other=0)
                    alias = tl.load(alias_ptr + 2 * col + 1, mask=ok, other=0)
                    t = tl.where(_draw(base_coin, slot).to(tl.int64) < threshold, col, alias)
                    tl.store(negs_ptr + rows * K + (j - 1), t, mask=ok)
                    live = ok & (t != p)  # word2vec.c: if (target == word) continue
                else:
                    t, live = _negative(negs_ptr, rows, ok, p, j, K)
            u = tl.load(w_out + t[:, None] * D + cols[None, :], mask=tile, other=0.0).to(tl.float32)
            g, pair_loss = _target_gradient(tl.sum(u * v, axis=1), j, live)
            loss += pair_loss
            grad_v += g[:, None] * u
            tl.store(g_ptr + rows * (K + 1) + j, g, mask=ok)
            if TRUST:
                u_sq += tl.where(live, tl.sum(u * u, axis=1), 0.0)
                tl.atomic_add(h_out + t, v_sq, mask=live, sem="relaxed")
        if TRUST:
            tl.atomic_add(h_in + c, u_sq, mask=ok, sem="relaxed")
        out = rows[:, None] * D + cols[None, :]
        tl.store(v_ptr + out, v, mask=tile)
        tl.store(gv_ptr + out, grad_v, mask=tile)
        tl.atomic_add(loss_ptr, tl.sum(loss, axis=0), sem="relaxed")

    @triton.jit(do_not_specialize=["n"], do_not_specialize_on_alignment=["center_ptr", "pos_ptr", "negs_ptr"])
    def update_kernel(
        w_in,
        w_out,
        center_ptr,
        pos_ptr,
        negs_ptr,
        g_ptr,
        v_ptr,
        gv_ptr,
        h_in,
        h_out,
        lr,
        trust,
        n,
        D: tl.constexpr,
        K: tl.constexpr,
        BLOCK_P: tl.constexpr,
        BLOCK_D: tl.constexpr,
        TRUST: tl.constexpr,
    ):
        rows, ok, cols, tile, c, p = _pairs(center_ptr, pos_ptr, n, D, BLOCK_P, BLOCK_D)
        out = rows[:, None] * D + cols[None, :]
        v = tl.load(v_ptr + out, mask=tile, other=0.0)
        grad_v = tl.load(gv_ptr + out, mask=tile, other=0.0)
        one = tl.zeros((BLOCK_P,), dtype=tl.float32) + 1.0
        _add_rows(w_in, c, ok, one, grad_v, lr, trust, h_in, cols, tile, D, TRUST)  # the trust region: model.sgd_step
        for j in tl.static_range(K + 1):
            if j == 0:
                t = p
                live = ok
            else:
                t, live = _negative(negs_ptr, rows, ok, p, j, K)
            g = tl.load(g_ptr + rows * (K + 1) + j, mask=ok, other=0.0)
            _add_rows(w_out, t, live, g, v, lr, trust, h_out, cols, tile, D, TRUST)

    @triton.jit
    def _hidden_layer(
        w_in,
        ctx_ptr,
        rows,
        ok,
        cols,
        tile,
        D: tl.constexpr,
        C: tl.constexpr,
        BLOCK_P: tl.constexpr,
        BLOCK_D: tl.constexpr,
        MEAN: tl.constexpr,
    ):
        """Each window's hidden layer h, the mean (MEAN) or sum of its C context rows (-1 ids skipped), and the
        window's size (at least 1)."""
        h = tl.zeros((BLOCK_P, BLOCK_D), dtype=tl.float32)
        size = tl.zeros((BLOCK_P,), dtype=tl.float32)
        for m in tl.static_range(C):
            x = tl.load(ctx_ptr + rows * C + m, mask=ok, other=-1).to(tl.int64)
            live = ok & (x >= 0)
            h += tl.load(w_in + x[:, None] * D + cols[None, :], mask=live[:, None] & tile, other=0.0).to(tl.float32)
            size += tl.where(live, 1.0, 0.0)
        size = tl.maximum(size, 1.0)
        if MEAN:
            h = h / size[:, None]
        return h, size

    @triton.jit(do_not_specialize=["n"], do_not_specialize_on_alignment=["ctx_ptr", "center_ptr", "negs_ptr"])
    def cbow_score_kernel(
        w_in,
        w_out,
        ctx_ptr,
        center_ptr,
        negs_ptr,
        g_ptr,
        h_ptr,
        gh_ptr,
        h_in,
        h_out,
        loss_ptr,
        n,
        D: tl.constexpr,
        K: tl.constexpr,
        C: tl.constexpr,
        BLOCK_P: tl.constexpr,
        BLOCK_D: tl.constexpr,
        MEAN: tl.constexpr,
        TRUST: tl.constexpr,
    ):
        """model.cbow_sgd_step's reads, per block of windows: the hidden layer h (the mean or sum of the C
        context rows, -1 ids skipped), the 1 + k scores, g, the loss, grad_h = Σ_j g_j u_j (divided by the
        window's size for a sum) and the trust sums, with atomics; h, grad_h and g stored for the update."""
        rows, ok, cols, tile, c = _windows(center_ptr, n, D, BLOCK_P, BLOCK_D)
        h, size = _hidden_layer(w_in, ctx_ptr, rows, ok, cols, tile, D, C, BLOCK_P, BLOCK_D, MEAN)
        h_sq = tl.sum(h * h, axis=1)
        grad_h = tl.zeros((BLOCK_P, BLOCK_D), dtype=tl.float32)
        u_sq = tl.zeros((BLOCK_P,), dtype=tl.float32)
        loss = tl.zeros((BLOCK_P,), dtype=tl.float32)
        for j in tl.static_range(K + 1):
            if j == 0:
                t = c
                live = ok
            else:
                t, live = _negative(negs_ptr, rows, ok, c, j, K)
            u = tl.load(w_out + t[:, None] * D + cols[None, :], mask=tile, other=0.0).to(tl.float32)
            g, window_loss = _target_gradient(tl.sum(u * h, axis=1), j, live)
            loss += window_loss
            grad_h += g[:, None] * u
            tl.store(g_ptr + rows * (K + 1) + j, g, mask=ok)
            if TRUST:
                u_sq += tl.where(live, tl.sum(u * u, axis=1), 0.0)
                tl.atomic_add(h_out + t, h_sq, mask=live, sem="relaxed")
        if MEAN:
            share = 1.0 / size  # an input row's change moves h by this share of it
        else:
            grad_h = grad_h / size[:, None]  # gensim divides the error among the window's rows
            share = tl.zeros((BLOCK_P,), dtype=tl.float32) + 1.0
        if TRUST:
            for m in tl.static_range(C):
                x = tl.load(ctx_ptr + rows * C + m, mask=ok, other=-1).to(tl.int64)
                tl.atomic_add(h_in + x, u_sq * share, mask=ok & (x >= 0), sem="relaxed")
        out = rows[:, None] * D + cols[None, :]
        tl.store(h_ptr + out, h, mask=tile)
        tl.store(gh_ptr + out, grad_h, mask=tile)
        tl.atomic_add(loss_ptr, tl.sum(loss, axis=0), sem="relaxed")

    @triton.jit(do_not_specialize=["n"], do_not_specialize_on_alignment=["ctx_ptr", "center_ptr", "negs_ptr"])
    def cbow_update_kernel(
        w_in,
        w_out,
        ctx_ptr,
        center_ptr,
        negs_ptr,
        g_ptr,
        h_ptr,
        gh_ptr,
        h_in,
        h_out,
        lr,
        trust,
        n,
        D: tl.constexpr,
        K: tl.constexpr,
        C: tl.constexpr,
        BLOCK_P: tl.constexpr,
        BLOCK_D: tl.constexpr,
        TRUST: tl.constexpr,
    ):
        """model.cbow_sgd_step's writes: every context row += lr·s_x·grad_h, every target's output row
        += lr·s_t·g·h, with atomic adds; s_r = min(1, trust / (lr·h_r))."""
        rows, ok, cols, tile, c = _windows(center_ptr, n, D, BLOCK_P, BLOCK_D)
        out = rows[:, None] * D + cols[None, :]
        h = tl.load(h_ptr + out, mask=tile, other=0.0)
        grad_h = tl.load(gh_ptr + out, mask=tile, other=0.0)
        one = tl.zeros((BLOCK_P,), dtype=tl.float32) + 1.0
        for m in tl.static_range(C):
            x = tl.load(ctx_ptr + rows * C + m, mask=ok, other=-1).to(tl.int64)
            _add_rows(w_in, x, ok & (x >= 0), one, grad_h, lr, trust, h_in, cols, tile, D, TRUST)
        for j in tl.static_range(K + 1):
            if j == 0:
                t = c
                live = ok
            else:
                t, live = _negative(negs_ptr, rows, ok, c, j, K)
            g = tl.load(g_ptr + rows * (K + 1) + j, mask=ok, other=0.0)
            _add_rows(w_out, t, live, g, h, lr, trust, h_out, cols, tile, D, TRUST)
