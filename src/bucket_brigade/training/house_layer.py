"""The structured network's per-house layer and house head, fused into one compiled pass
on the CPU.

For every game b and house m the layer computes

    hidden[b, m] = relu(local[index[b, m]] + context[b] + position[m])        [D]
    logits[b, :, m] = head_weight @ hidden[b, m] + head_bias                    [K]
    mean[b] = hidden[b].mean over the houses                                    [D]

(see ``training.network``). In PyTorch each of these steps is a pass over a [B, H, D]
tensor, forward and backward, about ten in all, and each pass costs as much as the
rest of a gradient step's layers: the tensor does not fit in the cache. The compiled
kernels below visit each (b, m) once, hold one house's ``hidden`` at a time in a small
scratch row, and recompute it in the backward pass instead of storing it.
:func:`house_layer_reference` is the same layer in plain PyTorch: the CUDA path, and
the oracle of the tests.

Independent learners (``training.sharing``) run their K networks at once with every
weight stacked per seat: ``local`` [K, C, D], ``index`` [K, B, H] and so on, each
argument with a leading seat dimension; the kernels then run seat after seat.

The kernels run on the calling thread (no ``prange``): the layer is a small part of a
gradient step, and on one thread, the trainer's default, parallel kernels were slower:
they pay for starting the parallel loop on every call. Running on no Numba thread pool,
the layer leaves every thread setting (Numba's, PyTorch's) as the caller set it.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import torch

_JIT = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
# The forward pass may sum each logit's products in any order, so that the compiler
# vectorises them: 1.5 times as fast, the same up to rounding. (The backward pass has no
# such sums to gain from. It gains from the ReLU's zero gradients written as a select
# rather than a branch, and from dividing the mean's gradient once per game rather than
# once per house: 1.4 times as fast, the same bit for bit.)
_FORWARD_JIT = {**_JIT, "fastmath": {"reassoc"}}


@nb.njit(**_FORWARD_JIT)
def _forward(local, index, context, position, head_weight, head_bias, logits, mean):
    games, houses = index.shape
    width, intents = local.shape[1], head_weight.shape[0]
    hidden = np.empty(width, dtype=local.dtype)  # one house's units at a time
    for b in range(games):
        mean[b] = 0.0
        for m in range(houses):
            entry = index[b, m]
            for d in range(width):
                value = local[entry, d] + context[b, d] + position[m, d]
                hidden[d] = value if value > 0.0 else 0.0
                mean[b, d] += hidden[d]
            for k in range(intents):
                total = head_bias[k]
                for d in range(width):
                    total += head_weight[k, d] * hidden[d]
                logits[b, k, m] = total
        mean[b] /= houses


@nb.njit(**_JIT)
def _backward(local, index, context, position, head_weight, grad_logits, grad_mean,
              grad_local, grad_context, grad_position, grad_weight, grad_bias):
    games, houses = index.shape
    width, intents = local.shape[1], head_weight.shape[0]
    grad_local[:] = 0.0
    grad_position[:] = 0.0
    grad_weight[:] = 0.0
    grad_bias[:] = 0.0
    hidden = np.empty(width, dtype=local.dtype)
    grad = np.empty(width, dtype=local.dtype)
    mean_share = np.empty(width, dtype=local.dtype)  # a unit's gradient via the mean
    for b in range(games):
        grad_context[b] = 0.0
        for d in range(width):
            mean_share[d] = grad_mean[b, d] / houses
        for m in range(houses):
            entry = index[b, m]
            for d in range(width):  # the unit again; its gradient via the mean
                value = local[entry, d] + context[b, d] + position[m, d]
                hidden[d] = value if value > 0.0 else 0.0
                grad[d] = mean_share[d]
            for k in range(intents):  # ... and via the head
                grad_logit = grad_logits[b, k, m]
                grad_bias[k] += grad_logit
                for d in range(width):
                    grad[d] += head_weight[k, d] * grad_logit
                    grad_weight[k, d] += grad_logit * hidden[d]
            for d in range(width):  # relu: no gradient where the unit is off
                grad[d] = grad[d] if hidden[d] != 0.0 else 0.0  # a select, not a branch
                grad_local[entry, d] += grad[d]
                grad_context[b, d] += grad[d]
                grad_position[m, d] += grad[d]


@nb.njit(**_FORWARD_JIT)
def _forward_seats(local, index, context, position, head_weight, head_bias, logits, mean):
    """:func:`_forward` for arguments stacked per seat, seat after seat."""
    for seat in range(local.shape[0]):
        _forward(local[seat], index[seat], context[seat], position[seat], head_weight[seat],
                 head_bias[seat], logits[seat], mean[seat])


@nb.njit(**_JIT)
def _backward_seats(local, index, context, position, head_weight, grad_logits, grad_mean,
                    grad_local, grad_context, grad_position, grad_weight, grad_bias):
    """:func:`_backward` for arguments stacked per seat, seat after seat."""
    for seat in range(local.shape[0]):
        _backward(local[seat], index[seat], context[seat], position[seat], head_weight[seat],
                  grad_logits[seat], grad_mean[seat], grad_local[seat], grad_context[seat],
                  grad_position[seat], grad_weight[seat], grad_bias[seat])


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().contiguous().numpy()


class _FusedHouseLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, local: torch.Tensor, index: torch.Tensor, context: torch.Tensor,
                position: torch.Tensor, head_weight: torch.Tensor, head_bias: torch.Tensor,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        *games, houses = index.shape  # [B] or, stacked, [K, B]
        logits = local.new_empty((*games, head_weight.shape[-2], houses))
        mean = local.new_empty((*games, local.shape[-1]))
        kernel = _forward if local.dim() == 2 else _forward_seats
        kernel(_array(local), _array(index), _array(context), _array(position),
               _array(head_weight), _array(head_bias), logits.numpy(), mean.numpy())
        ctx.save_for_backward(local, index, context, position, head_weight)
        return logits, mean

    @staticmethod
    def backward(ctx: Any, grad_logits: torch.Tensor, grad_mean: torch.Tensor,
                 ) -> tuple[torch.Tensor | None, ...]:
        local, index, context, position, head_weight = ctx.saved_tensors
        grad_local, grad_context = torch.empty_like(local), torch.empty_like(context)
        grad_position, grad_weight = torch.empty_like(position), torch.empty_like(head_weight)
        grad_bias = head_weight.new_empty(head_weight.shape[:-1])
        kernel = _backward if local.dim() == 2 else _backward_seats
        kernel(_array(local), _array(index), _array(context), _array(position),
               _array(head_weight), _array(grad_logits), _array(grad_mean),
               grad_local.numpy(), grad_context.numpy(), grad_position.numpy(),
               grad_weight.numpy(), grad_bias.numpy())
        return grad_local, None, grad_context, grad_position, grad_weight, grad_bias


def house_layer_reference(local: torch.Tensor, index: torch.Tensor, context: torch.Tensor,
                          position: torch.Tensor, head_weight: torch.Tensor,
                          head_bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits [B, K, H], mean of the hidden units over the houses [B, D]) in PyTorch;
    stacked per seat, each seat's."""
    if local.dim() == 3:
        return torch.vmap(house_layer_reference)(local, index, context, position,
                                                 head_weight, head_bias)
    hidden = torch.relu(local[index] + context[:, None] + position)
    logits = torch.nn.functional.linear(hidden, head_weight, head_bias)
    return logits.transpose(1, 2).contiguous(), hidden.mean(1)


def house_layer(local: torch.Tensor, index: torch.Tensor, context: torch.Tensor,
                position: torch.Tensor, head_weight: torch.Tensor, head_bias: torch.Tensor,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The layer for ``local`` [C, D] (one row per combination of a house's observed
    features), ``index`` [B, H] int64 (each house's row), ``context`` [B, D],
    ``position`` [H, D] and the head's ``head_weight`` [K, D] and ``head_bias`` [K], or
    all of them stacked per seat (a leading dimension): compiled on the CPU,
    :func:`house_layer_reference` elsewhere."""
    if local.device.type != "cpu":
        return house_layer_reference(local, index, context, position, head_weight, head_bias)
    return _FusedHouseLayer.apply(local, index, context, position, head_weight, head_bias)
