"""The learner's two-step action distribution (an intent, then a house given the intent;
see ``training.network``): log-softmaxes that tolerate masked logits; the rollout's
draws (:func:`draw`); and the log-probability of a taken action with the
distribution's entropy, which the PPO loss needs (:func:`log_prob_and_entropy`). The
draws and the loss's part are each one compiled pass on the CPU.

For game b, with intent log-probabilities lp[k], house log-probabilities lq[k, m] for
each intent, and ``credited[k]`` (whether the house counts for intent k):

    log_prob[b] = lp[a] + credited[a] * lq[a, h]                     (the taken a, h)
    entropy[b]  = -sum_k p[k] lp[k] + sum_k p[k] credited[k] H[k],   H[k] = -sum_m q[k, m] lq[k, m]

In PyTorch these are about twenty operations on [B, K, H] tensors, forward and
backward, each paying PyTorch's cost per operation (a quarter of a gradient step at the
default batch); the compiled kernels visit each game once and write the gradients
straight from the closed forms: d lp[j] / d z[i] = [i = j] - p[i], and
d H / d z[i] = -p[i] (lp[i] + H) for a softmax's entropy. They compute in float64 and
store float32. :func:`log_prob_and_entropy_reference` and :func:`draw_reference` are the
same in PyTorch: the CUDA path, and the oracles of the tests.
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np
import torch

# Exponents are clamped at EXP_FLOOR before exp: below about -87, exp leaves float32's
# normal range and the CPU's vectorised exp takes a path about 40 times slower, and tiny
# results make denormal gradients, as slow. exp(-40) = 4e-18 is below half a unit in the
# last place of 1 in float64 too, so in a softmax's sum (at least 1) it counts for nothing.
# Probabilities at or below the floor (masked entries) are exactly 0.
EXP_FLOOR = -40.0
_EXP_AT_FLOOR = math.exp(EXP_FLOOR)
_JIT = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """``torch.log_softmax`` over the last dimension, several times faster on the CPU for
    these short rows with masked entries (see EXP_FLOOR)."""
    shifted = logits - logits.detach().amax(-1, keepdim=True)
    return shifted - shifted.clamp_min(EXP_FLOOR).exp().sum(-1, keepdim=True).log()


def probabilities(log_probs: torch.Tensor) -> torch.Tensor:
    """exp(log_probs), exactly 0 at or below EXP_FLOOR (masked entries)."""
    return log_probs.clamp_min(EXP_FLOOR).exp() * (log_probs > EXP_FLOOR)


def log_prob_and_entropy_reference(intent_logits: torch.Tensor, house_logits: torch.Tensor,
                                   intent: torch.Tensor, house: torch.Tensor,
                                   credited: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-probability [B] of the taken (intent, house), entropy [B]) in PyTorch."""
    intent_lp, house_lp = log_softmax(intent_logits), log_softmax(house_logits)
    houses = house_lp.shape[-1]
    house_log_prob = house_lp.flatten(1).gather(-1, (intent * houses + house)[:, None])
    log_prob = intent_lp.gather(-1, intent[:, None]).squeeze(-1) \
        + house_log_prob.squeeze(-1) * credited[intent]
    intent_p = probabilities(intent_lp)
    house_entropy = -(probabilities(house_lp) * house_lp).sum(-1)  # [B, K]
    entropy = -(intent_p * intent_lp).sum(-1) + (intent_p * house_entropy * credited).sum(-1)
    return log_prob, entropy


def draw_categorical(log_probs: torch.Tensor, generator: torch.Generator | None,
                     ) -> torch.Tensor:
    """One draw per row of [B, n] log-probabilities, by inverting the cumulative
    distribution with one uniform number per row: far cheaper on the CPU than
    ``torch.multinomial``, which draws an exponential number per category. A masked category
    (log-probability at most EXP_FLOOR) is never drawn, even where rounding puts the
    uniform at the very bottom or top."""
    probs = probabilities(log_probs)
    possible = probs > 0
    cumulative = probs.cumsum(-1)
    uniform = torch.rand(len(probs), 1, generator=generator, device=probs.device,
                         dtype=probs.dtype) * cumulative[:, -1:]
    drawn = (cumulative <= uniform).sum(-1)
    last_possible = probs.shape[-1] - 1 - possible.flip(-1).to(torch.uint8).argmax(-1)
    return torch.minimum(drawn, last_possible)


def draw_reference(intent_logits: torch.Tensor, house_logits: torch.Tensor,
                   credited: torch.Tensor, generator: torch.Generator | None,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`draw` in PyTorch: the intent, then the house from the drawn intent's row."""
    intent_lp, house_lp = log_softmax(intent_logits), log_softmax(house_logits)
    intent = draw_categorical(intent_lp, generator)
    chosen_house_lp = house_lp[torch.arange(len(intent), device=intent.device), intent]
    house = draw_categorical(chosen_house_lp, generator)
    log_prob = intent_lp.gather(-1, intent[:, None]).squeeze(-1) \
        + chosen_house_lp.gather(-1, house[:, None]).squeeze(-1) * credited[intent]
    return intent, house, log_prob


@nb.njit(inline="always", **_JIT)
def _log_softmax_row(logits, log_probs, probs):
    """One row's log-probabilities and probabilities (0 at or below EXP_FLOOR); returns its
    entropy."""
    top = logits[0]
    for i in range(1, len(logits)):
        top = max(top, logits[i])
    total = 0.0
    for i in range(len(logits)):  # probs holds exp(shifted logit) for now
        shifted = float(logits[i] - top)
        probs[i] = math.exp(shifted) if shifted > EXP_FLOOR else 0.0
        total += probs[i] if shifted > EXP_FLOOR else _EXP_AT_FLOOR
    log_total, inverse_total = math.log(total), 1.0 / total
    entropy = 0.0
    for i in range(len(logits)):
        log_prob = float(logits[i] - top) - log_total
        log_probs[i] = log_prob
        probs[i] = probs[i] * inverse_total if log_prob > EXP_FLOOR else 0.0
        entropy -= probs[i] * log_prob
    return entropy


@nb.njit(**_JIT)
def _forward(intent_logits, house_logits, intent, house, credited, log_prob, entropy,
             intent_lp, intent_p, house_lp, house_p, house_entropy):
    """The last five arrays are kept for the backward pass."""
    for b in range(len(intent)):
        total = _log_softmax_row(intent_logits[b], intent_lp[b], intent_p[b])
        for k in range(intent_lp.shape[1]):
            house_entropy[b, k] = _log_softmax_row(house_logits[b, k], house_lp[b, k],
                                                   house_p[b, k])
            total += intent_p[b, k] * credited[k] * house_entropy[b, k]
        taken = intent[b]
        log_prob[b] = intent_lp[b, taken] + credited[taken] * house_lp[b, taken, house[b]]
        entropy[b] = total


@nb.njit(**_JIT)
def _backward(intent, house, credited, intent_lp, intent_p, house_lp, house_p, house_entropy,
              grad_log_prob, grad_entropy, grad_intent, grad_house):
    intents, houses = house_lp.shape[1], house_lp.shape[2]
    for b in range(len(intent)):
        taken, grad_lp, grad_ent = intent[b], grad_log_prob[b], grad_entropy[b]
        intent_ent, mean_house_ent = 0.0, 0.0  # -sum p lp, sum p credited H
        for k in range(intents):
            if intent_p[b, k] > 0.0:
                intent_ent -= intent_p[b, k] * intent_lp[b, k]
                mean_house_ent += intent_p[b, k] * credited[k] * house_entropy[b, k]
        for k in range(intents):
            p = intent_p[b, k]
            grad = 0.0
            if p > 0.0:
                grad = -grad_lp * p + grad_ent * p * (
                    credited[k] * house_entropy[b, k] - mean_house_ent
                    - intent_lp[b, k] - intent_ent)
            if k == taken:
                grad += grad_lp
            grad_intent[b, k] = grad
            entropy_weight = grad_ent * p * credited[k]
            log_prob_weight = grad_lp * credited[k] if k == taken else 0.0
            for m in range(houses):
                q = house_p[b, k, m]
                grad = 0.0
                if q > 0.0:
                    grad = -entropy_weight * q * (house_lp[b, k, m] + house_entropy[b, k]) \
                        - log_prob_weight * q
                if m == house[b]:
                    grad += log_prob_weight
                grad_house[b, k, m] = grad


@nb.njit(inline="always", **_JIT)
def _invert(probs, uniform):
    """draw_categorical's draw from one row of probabilities and a uniform number."""
    total = 0.0
    for i in range(len(probs)):
        total += probs[i]
    target, cumulative, drawn, last_possible = uniform * total, 0.0, 0, 0
    for i in range(len(probs)):
        cumulative += probs[i]
        if cumulative <= target:
            drawn += 1
        if probs[i] > 0.0:
            last_possible = i
    return min(drawn, last_possible)


@nb.njit(**_JIT)
def _draw(intent_logits, house_logits, credited, intent_uniform, house_uniform,
          intent, house, log_prob):
    intents, houses = house_logits.shape[1], house_logits.shape[2]
    intent_lp, intent_p = np.empty(intents), np.empty(intents)
    house_lp, house_p = np.empty(houses), np.empty(houses)
    for b in range(len(intent)):
        _log_softmax_row(intent_logits[b], intent_lp, intent_p)
        chosen = _invert(intent_p, intent_uniform[b])
        _log_softmax_row(house_logits[b, chosen], house_lp, house_p)
        where = _invert(house_p, house_uniform[b])
        intent[b], house[b] = chosen, where
        log_prob[b] = intent_lp[chosen] + credited[chosen] * house_lp[where]


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().contiguous().numpy()


class _FusedLogProbAndEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, intent_logits: torch.Tensor, house_logits: torch.Tensor,
                intent: torch.Tensor, house: torch.Tensor, credited: torch.Tensor,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        games = len(intent)
        log_prob, entropy = intent_logits.new_empty(games), intent_logits.new_empty(games)
        intent_lp, intent_p = torch.empty_like(intent_logits), torch.empty_like(intent_logits)
        house_lp, house_p = torch.empty_like(house_logits), torch.empty_like(house_logits)
        house_entropy = torch.empty_like(intent_logits)
        kept = (intent_lp, intent_p, house_lp, house_p, house_entropy)
        _forward(_array(intent_logits), _array(house_logits), _array(intent), _array(house),
                 _array(credited), log_prob.numpy(), entropy.numpy(),
                 *(tensor.numpy() for tensor in kept))
        ctx.save_for_backward(intent, house, credited, *kept)
        return log_prob, entropy

    @staticmethod
    def backward(ctx: Any, grad_log_prob: torch.Tensor, grad_entropy: torch.Tensor,
                 ) -> tuple[torch.Tensor | None, ...]:
        intent, house, credited, intent_lp, intent_p, house_lp, house_p, house_entropy = \
            ctx.saved_tensors
        grad_intent, grad_house = torch.empty_like(intent_lp), torch.empty_like(house_lp)
        _backward(_array(intent), _array(house), _array(credited), _array(intent_lp),
                  _array(intent_p), _array(house_lp), _array(house_p), _array(house_entropy),
                  _array(grad_log_prob), _array(grad_entropy), grad_intent.numpy(),
                  grad_house.numpy())
        return grad_intent, grad_house, None, None, None


def log_prob_and_entropy(intent_logits: torch.Tensor, house_logits: torch.Tensor,
                         intent: torch.Tensor, house: torch.Tensor, credited: torch.Tensor,
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """The log-probability [B] of the taken ``intent`` [B] and ``house`` [B] (int64) and the
    entropy [B] of the distribution given by masked ``intent_logits`` [B, K] and
    ``house_logits`` [B, K, H] (one row per intent), where ``credited`` [K] (bool) says for
    which intents the house counts: compiled on the CPU,
    :func:`log_prob_and_entropy_reference` elsewhere."""
    if intent_logits.device.type != "cpu":
        return log_prob_and_entropy_reference(intent_logits, house_logits, intent, house,
                                              credited)
    return _FusedLogProbAndEntropy.apply(intent_logits, house_logits, intent, house,
                                         credited.to(intent_logits.dtype))


def draw(intent_logits: torch.Tensor, house_logits: torch.Tensor, credited: torch.Tensor,
         generator: torch.Generator | None = None,
         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An action drawn from masked ``intent_logits`` [B, K] and ``house_logits`` [B, K, H]:
    (intent [B], house [B], its log-probability [B], the house counted where ``credited``
    [K] says), from two uniform numbers per row (:func:`draw_categorical`), the intent's
    drawn first. Compiled on the CPU (no gradient), :func:`draw_reference` elsewhere."""
    if intent_logits.device.type != "cpu":
        return draw_reference(intent_logits, house_logits, credited, generator)
    games = len(intent_logits)
    uniforms = [torch.rand(games, 1, generator=generator, dtype=intent_logits.dtype)
                for _ in range(2)]
    intent, house = torch.empty(games, dtype=torch.long), torch.empty(games, dtype=torch.long)
    log_prob = intent_logits.new_empty(games)
    _draw(_array(intent_logits), _array(house_logits), _array(credited.to(intent_logits.dtype)),
          *(_array(uniform[:, 0]) for uniform in uniforms), intent.numpy(), house.numpy(),
          log_prob.numpy())
    return intent, house, log_prob
