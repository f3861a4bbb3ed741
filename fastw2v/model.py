"""The tutorial's SkipGramNS: same constructor, attributes, initialisation and loss; a stable forward and a
fused SGD step. Imports nothing from the rest of the package."""

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
    def sgd_step(self, center: torch.Tensor, pos: torch.Tensor, negs: torch.Tensor, lr: float,
                 row_cap: float | None = 64.0) -> torch.Tensor:
        """One SGD step from analytic gradients, word2vec-style: no autograd, no optimizer state.

        For each pair, with g = label - σ(score) (word2vec.c: "g is the gradient multiplied by the
        learning rate", before the multiplication):  in[c] += lr·Σ_j g_j·u_j  and  out[j] += lr·g_j·v_c,
        both from the values before the step, as word2vec.c does within one pair (word2vec.c:520-540).
        This is SGD with step lr on the *summed* loss, i.e. torch.optim.SGD(lr=lr·B) on ``forward``'s mean.

        A negative equal to the pair's positive word is skipped, as in word2vec.c (``if (target == word)
        continue``). ``row_cap``: a row that occurs n times in the batch moves by min(n, row_cap) / n of the
        sum of its n updates, i.e. by at most row_cap per-pair steps' worth. Per-pair SGD applies a frequent
        word's updates one after another, each seeing the last, so they saturate; a batch sums them from the
        same stale vectors, and a word that occurs thousands of times in a batch of 2^16 pairs diverges.
        The cap changes nothing for rows under it (rare words, and every row of a small batch).
        ``row_cap=None`` is the plain sum (exact SGD on the summed loss); ``row_cap=1`` the per-row mean,
        which learns frequent words far too slowly (IMDB experiment in README "Large batches").
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
        if row_cap is not None:
            V = W_in.shape[0]
            # Occurrences per row, by index_add_ rather than torch.bincount, which syncs with the host on
            # CUDA to find its output size. Skipped negatives do not count as occurrences of their row.
            n_out = score.new_zeros(V).index_add_(0, flat_targets, mask.reshape(-1))[flat_targets]
            n_in = score.new_zeros(V).index_add_(0, center, torch.ones_like(score[:, 0]))[center]
            grad_u *= (row_cap / n_out).clamp_(max=1.0).unsqueeze(1).to(grad_u.dtype)
            grad_v *= (row_cap / n_in).clamp_(max=1.0).unsqueeze(1)
        W_out.index_add_(0, flat_targets, grad_u.to(W_out.dtype), alpha=lr)
        W_in.index_add_(0, center, grad_v.to(W_in.dtype), alpha=lr)
        return loss
