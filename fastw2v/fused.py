"""The fused SGD steps on CUDA: ``model.sgd_step``'s arithmetic (and ``model.cbow_sgd_step``'s) in two Triton
kernels each (``fused_kernels``), no (B, 1+k, d) temporary. Here: whether they run on a device, their block shapes,
and ``FusedStep``, which launches them on a pair of matrices.

``model.sgd_step`` (torch ops) is the reference and runs everywhere. Triton ships with the CUDA builds of torch.
Without it (a CPU install) ``available()`` is False and the torch reference is used; with ``TRITON_INTERPRET=1`` the
same kernels run on the CPU (numpy), which is how the tests check them against the reference.
"""

from __future__ import annotations

import math
import os

import torch

from . import draws
from . import fused_kernels as kernels
from .fused_kernels import UNAVAILABLE, triton

# A hash base plus 2**32 has the same low 32 bits, the only ones the hash reads; it makes Triton type the
# argument int64 for every base (bases below 2**31 would be int32, the others uint32: two compilations).
AS_INT64 = 1 << 32


def available(device: torch.device) -> bool:
    """Whether the fused kernels can run on ``device``: a CUDA device with Triton, or any device when
    TRITON_INTERPRET=1 (Triton's interpreter, for tests)."""
    if triton is None:
        return False
    if device.type == "cuda":
        return True
    return device.type == "cpu" and os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on")


def block_shapes(d: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """((pairs, warps) of the score kernel, (pairs, warps) of the update kernel) for rows of width d: two warps and
    16 elements of a (pairs × padded width) tile per thread (docs/gpu.md, "Block shapes"; ``python -m
    benchmarks.gpu_fused`` times others)."""
    shape = (max(1, 1024 // padded_width(d)), 2)
    return shape, shape


def padded_width(d: int) -> int:
    """A row's width in the kernels' tiles: the next power of two, at least 16."""
    return max(16, triton.next_power_of_2(d))


class FusedStep:
    """The fused SGD step for one pair of matrices (``W_in``, ``W_out``: (V, d) fp32, contiguous) and k.

    ``step(center, pos, lr, trust, loss_sum, negs=...)`` updates both matrices in place and adds the batch's
    summed loss into ``loss_sum`` (a 0-d fp32 tensor on the device): no host sync. The negatives are either
    given (``negs``, (B, k)) or drawn in the kernel (``draw=(base_col, base_coin, first_row)``, the stream of
    ``DeviceBatches.negatives``; then ``self.negs[:B]`` holds them afterwards). Scratch buffers grow to the
    largest batch seen.
    """

    def __init__(self, W_in: torch.Tensor, W_out: torch.Tensor, negative: int, alias_table: torch.Tensor | None = None):
        if triton is None:
            raise RuntimeError(f"the fused step needs Triton: {UNAVAILABLE}")
        for W in (W_in, W_out):
            if W.dtype != torch.float32 or not W.is_contiguous() or W.shape != W_in.shape:
                raise ValueError("the fused step takes two contiguous float32 matrices of one shape")
        self.W_in, self.W_out, self.k = W_in, W_out, negative
        self.V, self.d = W_in.shape
        self.device = W_in.device
        self.alias_table = None if alias_table is None else alias_table.to(self.device, torch.int64).contiguous()
        self.h = torch.zeros(2, self.V, dtype=torch.float32, device=self.device)  # trust sums of in, out rows
        self._capacity = 0
        self.block_d = padded_width(self.d)
        self.score_shape, self.update_shape = block_shapes(self.d)

    def _reserve(self, n: int) -> None:
        if n <= self._capacity:
            return
        n = max(n, 2 * self._capacity)
        dev = self.device
        self.g = torch.empty(n, self.k + 1, dtype=torch.float32, device=dev)
        self.v = torch.empty(n, self.d, dtype=torch.float32, device=dev)
        self.grad_v = torch.empty(n, self.d, dtype=torch.float32, device=dev)
        self.negs = torch.empty(n, self.k, dtype=torch.int64, device=dev)
        self._capacity = n

    def warm_up(self, trust: float | None, cbow_mean: bool | None = None) -> None:
        """Compile both kernels (Triton does on first use) with a step that changes nothing: one pair at lr 0; with
        ``cbow_mean`` (True or False) CBOW's kernels instead, on one window."""
        one = torch.zeros(1, dtype=torch.int64, device=self.device)
        if cbow_mean is not None:
            self.cbow_step(
                one[:, None], one, one.expand(1, self.k), 0.0, trust, torch.zeros((), device=self.device), cbow_mean
            )
            return
        self.step(
            one,
            one,
            0.0,
            trust,
            torch.zeros((), device=self.device),
            draw=(0, 0, 0) if self.alias_table is not None else None,
            negs=None
            if self.alias_table is not None
            else torch.zeros(1, self.k, dtype=torch.int64, device=self.device),
        )

    def step(
        self,
        center: torch.Tensor,
        pos: torch.Tensor,
        lr: float,
        trust: float | None,
        loss_sum: torch.Tensor,
        negs: torch.Tensor | None = None,
        draw: tuple[int, int, int] | None = None,
    ) -> None:
        """``model.sgd_step`` fused: (B,) centers and positives, the negatives given or drawn (the class's
        docstring); both matrices updated in place, the batch's summed loss added into ``loss_sum``."""
        n = center.shape[0]
        if n == 0:
            return
        self._reserve(n)
        if (negs is None) == (draw is None):
            raise ValueError("give the negatives (negs) or their stream (draw), one of the two")
        if draw is not None and self.alias_table is None:
            raise ValueError("drawing negatives in the kernel needs the alias table")
        inputs = (center.contiguous(), pos.contiguous(), self.negs if negs is None else negs.contiguous())
        base_col, base_coin, first_row = draw if draw is not None else (0, 0, 0)
        alias = self.alias_table if self.alias_table is not None else self.h  # unused when not drawing
        stream = (first_row, base_col + AS_INT64, base_coin + AS_INT64, alias.shape[0])
        kernel_pair = (kernels.score_kernel, kernels.update_kernel)
        shape = dict(D=self.d, K=self.k, BLOCK_D=self.block_d)
        self.launch(
            kernel_pair, n, inputs, (*inputs, alias), (loss_sum, n, *stream), lr, trust, shape, DRAW=draw is not None
        )

    def cbow_step(
        self,
        contexts: torch.Tensor,
        center: torch.Tensor,
        negs: torch.Tensor,
        lr: float,
        trust: float | None,
        loss_sum: torch.Tensor,
        cbow_mean: bool = True,
    ) -> None:
        """``model.cbow_sgd_step`` fused: (B, C) contexts (-1 after a window's last), (B,) centers, (B, k)
        negatives; both matrices updated in place, the batch's summed loss added into ``loss_sum``."""
        n, C = contexts.shape
        if n == 0:
            return
        self._reserve(n)
        inputs = (contexts.contiguous(), center.contiguous(), negs.contiguous())
        kernel_pair = (kernels.cbow_score_kernel, kernels.cbow_update_kernel)
        shape = dict(D=self.d, K=self.k, C=C, BLOCK_D=self.block_d)
        self.launch(kernel_pair, n, inputs, inputs, (loss_sum, n), lr, trust, shape, MEAN=bool(cbow_mean))

    def launch(self, kernel_pair, n, inputs, score_inputs, score_tail, lr, trust, shape, **flags) -> None:
        """The score kernel, then the update kernel, over n pairs or windows. Both take the matrices, their inputs
        (ids; the score kernel's ``score_inputs``), then the buffers (g; v or h; grad_v or grad_h; the trust sums);
        the score kernel then ``score_tail`` (the loss's sum, n, and the negatives' stream) and ``flags``, the
        update kernel lr, trust and n."""
        score, update = kernel_pair
        use_trust = trust is not None
        if use_trust:
            self.h.zero_()
        (score_pairs, score_warps), (update_pairs, update_warps) = self.score_shape, self.update_shape
        buffers = (self.g, self.v, self.grad_v, self.h[0], self.h[1])
        score[(triton.cdiv(n, score_pairs),)](
            self.W_in,
            self.W_out,
            *score_inputs,
            *buffers,
            *score_tail,
            TRUST=use_trust,
            BLOCK_P=score_pairs,
            num_warps=score_warps,
            **shape,
            **flags,
        )
        update[(triton.cdiv(n, update_pairs),)](
            self.W_in,
            self.W_out,
            *inputs,
            *buffers,
            float(lr),
            float(trust) if use_trust else math.inf,
            n,
            TRUST=use_trust,
            BLOCK_P=update_pairs,
            num_warps=update_warps,
            **shape,
        )


def stream_bases(seed: int, epoch: int, chunk: int) -> tuple[int, int]:
    """The (column, coin) bases of a chunk's negatives, as DeviceBatches.negatives uses them."""
    return (
        int(draws.stream_base(seed, epoch, draws.STREAM_NEGATIVE, chunk)),
        int(draws.stream_base(seed, epoch, draws.STREAM_NEGATIVE_COIN, chunk)),
    )
