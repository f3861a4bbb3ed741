"""The tutorial's SkipGramNS: same constructor, attributes, initialisation and loss; a stable forward and an SGD
step from analytic gradients (``SkipGramNS.sgd_step``), and CBOW's step on the same two matrices
(``cbow_sgd_step``). Imports nothing from the rest of the package."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class SkipGramNS(nn.Module):
    """Skip-gram with negative sampling.

    loss = mean_b( -log σ(u_pos·v_c) - Σ_k log σ(-u_k·v_c) ),  v = in_embed(center), u = out_embed(pos / negs)
    """

    def __init__(self, vocab_size: int, embed_dim: int, sparse: bool = False):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, embed_dim, sparse=sparse)
        self.out_embed = nn.Embedding(vocab_size, embed_dim, sparse=sparse)
        nn.init.uniform_(self.in_embed.weight, a=-0.5 / embed_dim, b=0.5 / embed_dim)
        nn.init.uniform_(self.out_embed.weight, a=-0.5 / embed_dim, b=0.5 / embed_dim)

    def forward(self, center: torch.Tensor, pos: torch.Tensor, negs: torch.Tensor) -> torch.Tensor:
        center_embed = self.in_embed(center)  # (B, d)
        pos_embed = self.out_embed(pos)  # (B, d)
        negs_embed = self.out_embed(negs)  # (B, k, d)
        pos_score = torch.sum(center_embed * pos_embed, dim=1)  # (B,)
        negs_score = torch.bmm(negs_embed, center_embed.unsqueeze(2)).squeeze(2)  # (B, k)
        # -log(sigmoid(x)) == -logsigmoid(x), but logsigmoid stays finite where sigmoid underflows to 0.
        pos_loss = -F.logsigmoid(pos_score)
        negs_loss = -F.logsigmoid(-negs_score)
        return torch.mean(pos_loss + torch.sum(negs_loss, dim=1))

    @torch.no_grad()
    def sgd_step(
        self, center: torch.Tensor, pos: torch.Tensor, negs: torch.Tensor, lr: float, trust: float | None = 16.0
    ) -> torch.Tensor:
        """One SGD step from analytic gradients, word2vec-style: no autograd, no optimizer state.

        For each pair, with g = label - σ(score) (word2vec.c: "g is the gradient multiplied by the
        learning rate", before the multiplication):  in[c] += lr·Σ_j g_j·u_j  and  out[j] += lr·g_j·v_c,
        both from the values before the step, as word2vec.c does within one pair (word2vec.c:520-540).
        This is SGD with step lr on the *summed* loss, i.e. torch.optim.SGD(lr=lr·B) on ``forward``'s mean.

        A negative equal to the pair's positive word is skipped, as in word2vec.c (``if (target == word)
        continue``).

        ``trust`` bounds how far one row moves per batch. Per-pair SGD applies a frequent word's updates one
        after another, each seeing the last, so they saturate; a batch sums them from the same stale vectors,
        and a word that occurs thousands of times in a batch of 2^16 pairs diverges. The summed update of row r
        changes its scores by up to lr·H_r, where H_r sums |x|^2 over the vectors x it was multiplied with
        (|v_c|^2 for an output row, Σ_j |u_j|^2 for an input row). When lr·H_r > trust the row's update is
        scaled by trust / (lr·H_r): a trust region on each row's scores. A row seen once has lr·H_r far
        below trust, so small batches get exactly the per-pair SGD step; ``trust=None`` is the plain sum.
        Averaging repeated rows instead (1/n) learns frequent words far too slowly, and capping n at a
        constant needs a different constant for each batch size (docs/quality.md, "Large batches").
        Returns the summed loss of the batch as a 0-d tensor on the device (no host sync).
        """
        W_in, W_out = self.in_embed.weight, self.out_embed.weight
        targets = torch.cat([pos.unsqueeze(1), negs], dim=1)  # (B, 1+k)
        v = W_in[center]  # (B, d)
        u = W_out[targets]  # (B, 1+k, d)
        score = torch.bmm(u, v.unsqueeze(2)).squeeze(2)  # (B, 1+k)
        mask = torch.ones_like(score)
        mask[:, 1:] = (negs != pos.unsqueeze(1)).to(score.dtype)
        g = -torch.sigmoid(score)
        g[:, 0] += 1.0  # label 1 for the positive, 0 for the negatives
        g *= mask
        loss = -(F.logsigmoid(score[:, 0]) + (F.logsigmoid(-score[:, 1:]) * mask[:, 1:]).sum(1)).sum()
        grad_v = torch.bmm(g.unsqueeze(1), u).squeeze(1)  # (B, d)
        grad_u = g.unsqueeze(2) * v.unsqueeze(1)  # (B, 1+k, d)
        flat_targets = targets.reshape(-1)
        grad_u = grad_u.reshape(-1, grad_u.shape[-1])
        if trust is not None:
            V = W_in.shape[0]
            # Per-row sums by index_add_ rather than torch.bincount, which syncs with the host on CUDA.
            # Skipped negatives (mask 0) add nothing.
            # squared norms by a reduction (vector_norm), not a (B, 1+k, d) temporary of u * u
            v_sq = torch.linalg.vector_norm(v, dim=1, keepdim=True).square()  # (B, 1)
            u_sq = torch.linalg.vector_norm(u, dim=2).square()  # (B, 1+k)
            h_out = score.new_zeros(V).index_add_(0, flat_targets, (v_sq * mask).reshape(-1))
            h_in = score.new_zeros(V).index_add_(0, center, (u_sq * mask).sum(1))
            grad_u *= (trust / (lr * h_out[flat_targets])).clamp_(max=1.0).unsqueeze(1).to(grad_u.dtype)
            grad_v *= (trust / (lr * h_in[center])).clamp_(max=1.0).unsqueeze(1)
        W_out.index_add_(0, flat_targets, grad_u.to(W_out.dtype), alpha=lr)
        W_in.index_add_(0, center, grad_v.to(W_in.dtype), alpha=lr)
        return loss


@torch.no_grad()
def cbow_sgd_step(
    model: SkipGramNS,
    contexts: torch.Tensor,
    center: torch.Tensor,
    negs: torch.Tensor,
    lr: float,
    cbow_mean: bool = True,
    trust: float | None = 16.0,
) -> torch.Tensor:
    """One SGD step of CBOW with negative sampling over a batch of windows, from analytic gradients, on the two
    matrices of ``model`` (a ``SkipGramNS``): ``in_embed`` holds CBOW's input rows (the windows' context words) and
    ``out_embed`` its output rows (the centers and their negatives), as they hold skip-gram's.

    ``contexts`` (B, C): each window's context ids, -1 after its last; ``center`` (B,), ``negs`` (B, k). The
    hidden layer h is the mean (``cbow_mean``) or the sum of the window's input rows; each target (the center,
    label 1, and its negatives, label 0; a negative equal to the center is skipped) moves its output row by
    lr·g·h, and every input row of the window by lr·Σ_j g_j·u_j (divided by the window's size for a sum, as
    gensim does): word2vec.c's CBOW (word2vec.c:446-491) with every update from the values before the step.
    ``trust`` bounds each row's summed update as ``SkipGramNS.sgd_step`` does. Returns the batch's summed loss (a
    0-d tensor on the device)."""
    W_in, W_out = model.in_embed.weight, model.out_embed.weight
    valid = contexts >= 0  # (B, C)
    rows = contexts.clamp(min=0)
    size = valid.sum(1, keepdim=True).clamp_(min=1).to(W_in.dtype)  # (B, 1)
    h = (W_in[rows] * valid.unsqueeze(2)).sum(1)  # (B, d)
    if cbow_mean:
        h /= size
    targets = torch.cat([center.unsqueeze(1), negs], dim=1)  # (B, 1+k)
    u = W_out[targets]  # (B, 1+k, d)
    score = torch.bmm(u, h.unsqueeze(2)).squeeze(2)  # (B, 1+k)
    mask = torch.ones_like(score)
    mask[:, 1:] = (negs != center.unsqueeze(1)).to(score.dtype)
    g = -torch.sigmoid(score)
    g[:, 0] += 1.0
    g *= mask
    loss = -(F.logsigmoid(score[:, 0]) + (F.logsigmoid(-score[:, 1:]) * mask[:, 1:]).sum(1)).sum()
    grad_h = torch.bmm(g.unsqueeze(1), u).squeeze(1)  # (B, d): word2vec.c's neu1e
    if cbow_mean:
        share = 1.0 / size  # an input row's change moves h by this share of it
    else:
        grad_h /= size  # gensim divides the error among the window's rows
        share = torch.ones_like(size)
    grad_u = (g.unsqueeze(2) * h.unsqueeze(1)).reshape(-1, h.shape[1])  # (B·(1+k), d)
    flat_targets = targets.reshape(-1)
    grad_x = grad_h.unsqueeze(1).expand(-1, rows.shape[1], -1)[valid]  # one per context row in a window
    flat_rows = rows[valid]
    if trust is not None:  # as sgd_step: a row's summed update changes its scores by at most ~trust
        V = W_in.shape[0]
        h_sq = torch.linalg.vector_norm(h, dim=1, keepdim=True).square()  # (B, 1)
        u_sq = (torch.linalg.vector_norm(u, dim=2).square() * mask).sum(1, keepdim=True)  # (B, 1)
        h_out = score.new_zeros(V).index_add_(0, flat_targets, (h_sq * mask).reshape(-1))
        h_in = score.new_zeros(V).index_add_(0, flat_rows, (u_sq * share).expand(-1, rows.shape[1])[valid])
        grad_u *= (trust / (lr * h_out[flat_targets])).clamp_(max=1.0).unsqueeze(1).to(grad_u.dtype)
        grad_x = grad_x * (trust / (lr * h_in[flat_rows])).clamp_(max=1.0).unsqueeze(1)
    W_out.index_add_(0, flat_targets, grad_u.to(W_out.dtype), alpha=lr)
    W_in.index_add_(0, flat_rows, grad_x.to(W_in.dtype), alpha=lr)
    return loss
