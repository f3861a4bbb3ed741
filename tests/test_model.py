"""SkipGramNS: the tutorial's loss, computed stably, and the fused SGD step against autograd."""

import pytest
import torch

from fastw2v import SkipGramNS


def tutorial_loss(model, center, pos, negs):
    """The tutorial's forward, verbatim: -log(sigmoid(x))."""
    center_embed = model.in_embed(center)
    pos_embed = model.out_embed(pos)
    negs_embed = model.out_embed(negs)
    pos_score = torch.sum(center_embed * pos_embed, dim=1)
    negs_score = torch.bmm(negs_embed, center_embed.unsqueeze(2)).squeeze(2)
    pos_loss = -torch.log(torch.sigmoid(pos_score))
    negs_loss = -torch.log(torch.sigmoid(-negs_score))
    return torch.mean(pos_loss + torch.sum(negs_loss, dim=1))


def batch(V=50, B=64, k=5, seed=0, collisions=False):
    g = torch.Generator().manual_seed(seed)
    center = torch.randint(0, V, (B,), generator=g)
    pos = torch.randint(0, V, (B,), generator=g)
    negs = torch.randint(0, V, (B, k), generator=g)
    if not collisions:
        negs = torch.where(negs == pos[:, None], (negs + 1) % V, negs)
    return center, pos, negs


def test_tutorial_attributes_and_init():
    torch.manual_seed(0)
    m = SkipGramNS(1000, 40)
    assert m.in_embed.weight.shape == m.out_embed.weight.shape == (1000, 40)
    for w in (m.in_embed.weight, m.out_embed.weight):
        assert w.abs().max() <= 0.5 / 40 and w.abs().max() > 0.45 / 40


def test_forward_equals_tutorial_formula():
    torch.manual_seed(0)
    m = SkipGramNS(50, 16)
    with torch.no_grad():  # scale up so the scores are far from zero
        m.in_embed.weight.mul_(40)
        m.out_embed.weight.mul_(40)
    c, p, n = batch()
    expected = tutorial_loss(m, c, p, n)
    assert torch.isfinite(expected) and expected > 1.0
    torch.testing.assert_close(m(c, p, n), expected, rtol=1e-5, atol=1e-5)


def test_forward_is_finite_where_the_tutorial_overflows():
    m = SkipGramNS(10, 4)
    with torch.no_grad():
        m.in_embed.weight.fill_(10.0)
        m.out_embed.weight.fill_(10.0)  # negative scores of 400: sigmoid(-400) == 0 in float32
    c, p, n = batch(V=10, B=8, k=3, collisions=True)
    assert torch.isinf(tutorial_loss(m, c, p, n))
    loss = m(c, p, n)
    assert torch.isfinite(loss) and abs(loss.item() - 3 * 400) < 1e-2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fused_sgd_step_equals_autograd_sgd(seed):
    """sgd_step(lr) on the summed loss == torch.optim.SGD(lr * B) on forward's mean loss."""
    torch.manual_seed(seed)
    V, B, lr = 40, 32, 0.05
    c, p, n = batch(V=V, B=B, seed=seed)
    fused = SkipGramNS(V, 8)
    ref = SkipGramNS(V, 8)
    ref.load_state_dict(fused.state_dict())
    fused.sgd_step(c, p, n, lr, trust=None)
    opt = torch.optim.SGD(ref.parameters(), lr=lr * B)
    opt.zero_grad()
    ref(c, p, n).backward()
    opt.step()
    torch.testing.assert_close(fused.in_embed.weight, ref.in_embed.weight, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fused.out_embed.weight, ref.out_embed.weight, rtol=1e-5, atol=1e-6)


def test_fused_step_returns_the_summed_loss():
    torch.manual_seed(0)
    m = SkipGramNS(40, 8)
    c, p, n = batch(V=40, B=32)
    expected = m(c, p, n).item() * 32
    assert abs(m.sgd_step(c, p, n, 0.01).item() - expected) < 1e-4


@pytest.mark.parametrize("trust", [0.05, 0.5, 100.0])
def test_trust_scales_rows_whose_summed_step_is_large_and_keeps_others_exact(trust):
    torch.manual_seed(0)
    V, lr = 30, 0.1
    c = torch.tensor([3, 3, 3, 4])
    p = torch.tensor([5, 6, 7, 8])
    n = torch.tensor([[10], [11], [12], [13]])
    summed, trusted = SkipGramNS(V, 6), SkipGramNS(V, 6)
    with torch.no_grad():
        summed.out_embed.weight.mul_(100)  # make |u|^2 large enough for the bound to bite on row 3
    trusted.load_state_dict(summed.state_dict())
    before = summed.in_embed.weight.clone()
    u = summed.out_embed.weight.detach()
    summed.sgd_step(c, p, n, lr, trust=None)
    trusted.sgd_step(c, p, n, lr, trust=trust)
    d_sum = summed.in_embed.weight - before
    d_trust = trusted.in_embed.weight - before
    for row, partners in ((3, [5, 6, 7, 10, 11, 12]), (4, [8, 13])):
        h = (u[partners] ** 2).sum()
        scale = min(1.0, trust / (lr * h.item()))
        torch.testing.assert_close(d_trust[row], d_sum[row] * scale)
    # small vectors (the initialisation): every row gets exactly the per-pair step
    a, b = SkipGramNS(V, 6), SkipGramNS(V, 6)
    b.load_state_dict(a.state_dict())
    a.sgd_step(c, p, n, lr, trust=None)
    b.sgd_step(c, p, n, lr, trust=trust)
    torch.testing.assert_close(a.in_embed.weight, b.in_embed.weight)
    torch.testing.assert_close(a.out_embed.weight, b.out_embed.weight)


def test_negative_equal_to_positive_is_skipped():
    """word2vec.c skips a negative equal to the positive word: only the positive term moves row 2."""
    torch.manual_seed(0)
    m = SkipGramNS(10, 4)
    v, u = m.in_embed.weight[1].clone(), m.out_embed.weight[2].clone()
    lr = 0.5
    loss = m.sgd_step(torch.tensor([1]), torch.tensor([2]), torch.tensor([[2, 2]]), lr)
    g = 1 - torch.sigmoid(u @ v)
    torch.testing.assert_close(m.out_embed.weight[2], u + lr * g * v)
    torch.testing.assert_close(m.in_embed.weight[1], v + lr * g * u)
    torch.testing.assert_close(loss, -torch.nn.functional.logsigmoid(u @ v))
