"""The fused Triton step (fastw2v.fused) against its reference, SkipGramNS.sgd_step.

On a machine without a GPU the kernels run in Triton's interpreter (conftest sets TRITON_INTERPRET=1), the
same kernels a GPU compiles; without Triton installed these tests are skipped (a CPU install needs none).
"""

import math
import re

import numpy as np
import pytest
import torch

import fastw2v
from fastw2v import DeviceBatches, NumbaBatches, SkipGramNS
from fastw2v import kernels as K
from fastw2v.batching import corpus_from_indexed_docs
from fastw2v.errors import UserError, setting
from fastw2v.model import cbow_sgd_step

fused = pytest.importorskip("fastw2v.fused")
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
pytestmark = pytest.mark.skipif(not fused.available(DEVICE), reason="Triton is not installed")


def matrices(V, d, seed=0, scale=0.5):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(V, d, generator=g) * scale).to(DEVICE), (torch.randn(V, d, generator=g) * scale).to(DEVICE)


def reference(W_in, W_out, center, pos, negs, lr, trust):
    model = SkipGramNS(*W_in.shape).to(DEVICE)
    with torch.no_grad():
        model.in_embed.weight.copy_(W_in)
        model.out_embed.weight.copy_(W_out)
    loss = model.sgd_step(center, pos, negs, lr, trust=trust)
    return model.in_embed.weight.detach(), model.out_embed.weight.detach(), float(loss)


def run_fused(W_in, W_out, center, pos, lr, trust, negs=None, draw=None, alias=None):
    A, B = W_in.clone(), W_out.clone()
    k = negs.shape[1] if negs is not None else 5
    step = fused.FusedStep(A, B, k, alias)
    loss = torch.zeros((), device=DEVICE)
    step.step(
        center.to(DEVICE), pos.to(DEVICE), lr, trust, loss, negs=None if negs is None else negs.to(DEVICE), draw=draw
    )
    return A, B, float(loss), step


@pytest.mark.parametrize("trust", [None, 16.0, 0.01])
def test_step_equals_reference_with_duplicates(trust):
    """Repeated centers and targets in one batch, a negative equal to its positive, a width that is not a power
    of two and a batch that is not a whole number of blocks: the same loss and the same updated matrices."""
    V, d, k, B = 12, 20, 3, 45
    g = torch.Generator().manual_seed(3)
    center = torch.randint(0, 4, (B,), generator=g)  # 4 centers: each ~11 times
    pos = torch.randint(0, 6, (B,), generator=g)
    negs = torch.randint(0, 6, (B, k), generator=g)
    negs[0, 1], negs[5, 0] = pos[0], pos[5]
    W_in, W_out = matrices(V, d)
    ref_in, ref_out, ref_loss = reference(W_in, W_out, center.to(DEVICE), pos.to(DEVICE), negs.to(DEVICE), 0.3, trust)
    A, Bm, loss, _ = run_fused(W_in, W_out, center, pos, 0.3, trust, negs=negs)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert torch.allclose(A, ref_in, atol=2e-6) and torch.allclose(Bm, ref_out, atol=2e-6)
    assert (A - W_in).abs().max() > 1e-4 and (Bm - W_out).abs().max() > 1e-4  # the step did move rows
    assert torch.equal(A[4:], W_in[4:]) and torch.equal(Bm[6:], W_out[6:])  # and only the rows it touched


def test_one_pair_by_hand_with_skipped_negatives():
    """center 0, positive 1, negatives [1, 2, 1]: the two negatives equal to the positive are skipped, so
    in[0] += lr·((1 - σ(s1))·u1 - σ(s2)·u2), out[1] += lr·(1 - σ(s1))·v, out[2] -= lr·σ(s2)·v."""
    W_in = torch.tensor([[0.5, -1.0], [0.0, 0.0], [0.0, 0.0]], device=DEVICE)
    W_out = torch.tensor([[0.0, 0.0], [1.0, 0.5], [-0.5, 2.0]], device=DEVICE)
    lr = 0.5
    A, B, loss, _ = run_fused(
        W_in, W_out, torch.tensor([0]), torch.tensor([1]), lr, None, negs=torch.tensor([[1, 2, 1]])
    )
    v, u1, u2 = np.array([0.5, -1.0]), np.array([1.0, 0.5]), np.array([-0.5, 2.0])
    s1, s2 = v @ u1, v @ u2
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert loss == pytest.approx(-math.log(sig(s1)) - math.log(sig(-s2)), rel=1e-6)
    np.testing.assert_allclose(A[0].cpu().numpy(), v + lr * ((1 - sig(s1)) * u1 - sig(s2) * u2), rtol=1e-6)
    np.testing.assert_allclose(B[1].cpu().numpy(), u1 + lr * (1 - sig(s1)) * v, rtol=1e-6)
    np.testing.assert_allclose(B[2].cpu().numpy(), u2 - lr * sig(s2) * v, rtol=1e-6)


def test_trust_region_scales_a_frequent_row():
    """A center seen 40 times in one batch: its summed update is scaled by trust / (lr·H), H = Σ |u_j|², so the
    row moves less than the plain sum would move it, by exactly that factor; a row seen once is not scaled."""
    V, d = 50, 8  # two negatives a pair
    center = torch.tensor([0] * 40 + [1])
    pos = torch.arange(2, 43)
    negs = torch.stack([torch.arange(43, 84) % V, (torch.arange(43, 84) + 1) % V], 1)
    negs = torch.where(negs == pos[:, None], (negs + 2) % V, negs)
    W_in, W_out = matrices(V, d, seed=5, scale=1.0)
    lr, trust = 0.1, 10.0  # lr·H: ~96 for row 0, ~2.4 for row 1 (|u|² ~ d = 8, 3 targets a pair)
    plain, _, _, _ = run_fused(W_in, W_out, center, pos, lr, None, negs=negs)
    trusted, _, _, _ = run_fused(W_in, W_out, center, pos, lr, trust, negs=negs)
    targets = torch.cat([pos[:40, None], negs[:40]], 1).to(DEVICE)
    live = torch.ones_like(targets, dtype=torch.bool)
    live[:, 1:] = targets[:, 1:] != targets[:, :1]
    H = (W_out[targets].square().sum(-1) * live).sum()
    assert lr * H > trust  # the bound applies to row 0, not to row 1
    scale = trust / (lr * H)
    assert torch.allclose(trusted[0] - W_in[0], scale * (plain[0] - W_in[0]), atol=1e-6)
    assert torch.allclose(trusted[1], plain[1], atol=1e-7)  # row 1: lr·H far below trust


def test_negatives_drawn_in_the_kernel_are_the_device_batches_ones(zipf_corpus):
    """draw=(bases, first row): the alias draws of DeviceBatches.negatives (and of the numba kernel) for
    the same stream slots, and the update equals the reference fed those negatives."""
    batches = DeviceBatches(zipf_corpus, device=DEVICE, batch_size=40, negative=5, seed=7)
    first, n = 1000, 40
    center = torch.randint(0, 100, (n,), generator=torch.Generator().manual_seed(1))
    pos = torch.randint(0, 100, (n,), generator=torch.Generator().manual_seed(2))
    base_col, base_coin = fused.stream_bases(7, 2, 3)
    W_in, W_out = matrices(len(zipf_corpus.vocab), 16)
    A, B, loss, step = run_fused(
        W_in, W_out, center, pos, 0.05, 16.0, draw=(base_col, base_coin, first), alias=batches._alias_table
    )
    negs = batches.negatives(2, 3, first, n)
    assert torch.equal(step.negs[:n], negs)
    out = np.empty((n, 5), dtype=np.int64)
    K.draw_negatives(batches.alias_table, base_col, base_coin, first, out)
    assert np.array_equal(out, negs.cpu().numpy())
    ref_in, ref_out, ref_loss = reference(W_in, W_out, center.to(DEVICE), pos.to(DEVICE), negs, 0.05, 16.0)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert torch.allclose(A, ref_in, atol=1e-6) and torch.allclose(B, ref_out, atol=1e-6)


@pytest.mark.parametrize("sg", [1, 0])
def test_training_with_the_fused_step_equals_the_torch_step(monkeypatch, sg):
    """fastw2v.train with sgd_kernel='triton' and 'torch', skip-gram and CBOW: the same pairs (windows), the same
    loss, the same vectors to float tolerance (chunks of 2 batches and a short last one, sub-sampling, shuffling,
    2 epochs)."""
    if DEVICE.type == "cpu":  # the interpreter's time goes by programs: fewer, larger ones
        monkeypatch.setattr(fused, "block_shapes", lambda d: ((128, 4), (128, 4)))
    rng = np.random.default_rng(0)
    docs = [list(rng.zipf(1.6, size=rng.integers(3, 40)) % 60) for _ in range(40)]
    corpus = corpus_from_indexed_docs(docs, 60)
    runs = {
        kernel: fastw2v.train(
            corpus=corpus,
            backend="torch",
            device=str(DEVICE),
            sgd_kernel=kernel,
            epochs=2,
            batch_size=256,
            chunk_tokens=400,
            sample=0.01,
            min_count=1,
            vector_size=16,
            sg=sg,
            progress=False,
        )
        for kernel in ("torch", "triton")
    }
    a, b = runs["torch"], runs["triton"]
    assert (a.stats.kernel, b.stats.kernel) == ("torch", "triton")
    assert a.stats.examples == b.stats.examples > (1000 if sg else 300)
    assert b.stats.final_loss == pytest.approx(a.stats.final_loss, rel=1e-5)
    np.testing.assert_allclose(b.vectors, a.vectors, atol=1e-5)


def test_chunk_batches_are_the_pairs_and_negatives_of_iter(zipf_corpus):
    """The fused loop's batches (never across a chunk, negatives drawn by the caller) hold the pairs of
    iter(builder), with the same negative for each pair; the token shares run from 0 to 1."""
    for make in (NumbaBatches, DeviceBatches):
        b = make(zipf_corpus, batch_size=1000, chunk_tokens=8000, shuffle=False, seed=3)
        b.set_epoch(0)
        full = [torch.cat(x) for x in zip(*iter(b))]
        parts = list(b.chunk_batches(0))
        center = torch.cat([p.center for p in parts])
        context = torch.cat([p.context for p in parts])
        negs = torch.cat([b.negatives(0, p.chunk, p.first, p.center.shape[0]) for p in parts])
        assert torch.equal(center, full[0]) and torch.equal(context, full[1]) and torch.equal(negs, full[2])
        assert len({p.chunk for p in parts}) == b.n_chunks > 3
        assert parts[0].start == 0.0 and parts[-1].end == 1.0
        assert all(p.start < p.end for p in parts) and all(x.end == y.start for x, y in zip(parts, parts[1:]))


def test_sgd_kernel_setting():
    with pytest.raises(UserError, match="unknown sgd_kernel 'cuda'"):
        fastw2v.Config(sgd_kernel="cuda")
    assert fastw2v.Config(device="cpu", sgd_kernel="auto").resolved_sgd_kernel() == "torch"  # auto: GPUs only
    assert fastw2v.Config(device="cpu", sgd_kernel="torch").resolved_sgd_kernel() == "torch"


def test_sgd_kernel_triton_without_triton_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(fused, "triton", None)
    torch_kernel = setting("sgd_kernel", "torch")
    with pytest.raises(UserError, match=r"Triton is not installed \(pip install triton\).*" + re.escape(torch_kernel)):
        fastw2v.Config(device="cpu", sgd_kernel="triton").resolved_sgd_kernel()


@pytest.mark.parametrize("cbow_mean, trust", [(True, None), (False, None), (True, 16.0), (True, 0.01), (False, 0.01)])
def test_cbow_step_equals_the_torch_step(cbow_mean, trust):
    """CBOW: windows of 1 to 4 contexts (-1 after the last) with repeated rows, a negative equal to its center, a
    width that is not a power of two and a batch that is not a whole number of blocks: the fused step's loss and
    matrices are model.cbow_sgd_step's."""
    V, d, k, B, C = 12, 20, 3, 45, 4
    g = torch.Generator().manual_seed(5)
    sizes = torch.randint(1, C + 1, (B,), generator=g)
    contexts = torch.where(torch.arange(C) < sizes[:, None], torch.randint(0, 5, (B, C), generator=g), -1)
    center = torch.randint(0, 6, (B,), generator=g)
    negs = torch.randint(0, 6, (B, k), generator=g)
    negs[0, 1], negs[5, 0] = center[0], center[5]
    W_in, W_out = matrices(V, d)
    model = SkipGramNS(V, d).to(DEVICE)
    with torch.no_grad():
        model.in_embed.weight.copy_(W_in)
        model.out_embed.weight.copy_(W_out)
    args = (contexts.to(DEVICE), center.to(DEVICE), negs.to(DEVICE))
    ref_loss = float(cbow_sgd_step(model, *args, 0.3, cbow_mean, trust=trust))
    A, Bm = W_in.clone(), W_out.clone()
    step = fused.FusedStep(A, Bm, k)
    loss = torch.zeros((), device=DEVICE)
    step.cbow_step(*args, 0.3, trust, loss, cbow_mean)
    assert float(loss) == pytest.approx(ref_loss, rel=1e-5)
    assert torch.allclose(A, model.in_embed.weight.detach(), atol=2e-6)
    assert torch.allclose(Bm, model.out_embed.weight.detach(), atol=2e-6)
    assert (A - W_in).abs().max() > 1e-4 and (Bm - W_out).abs().max() > 1e-4
    assert torch.equal(A[5:], W_in[5:]) and torch.equal(Bm[6:], W_out[6:])  # only the rows it touched
