"""The action distribution: its log-softmax against PyTorch's, the fused log-probability
and entropy against their plain PyTorch definition (values and gradients), and the
draws, compiled and in PyTorch."""

from __future__ import annotations

import pytest
import torch

from bucket_brigade.training.distribution import (
    draw,
    draw_categorical,
    draw_reference,
    log_prob_and_entropy,
    log_prob_and_entropy_reference,
    log_softmax,
    probabilities,
)
from bucket_brigade.training.network import PADDING_LOGIT


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_log_softmax_and_probabilities_match_torch_with_masked_entries(
        dtype: torch.dtype) -> None:
    generator = torch.Generator().manual_seed(0)
    logits = (torch.randn(500, 3, 10, generator=generator) * 8).to(dtype)
    masked = torch.rand(500, 3, 10, generator=generator) < 0.6
    masked[:, :, 0] = False  # every row keeps a possible entry
    logits = logits.masked_fill(masked, PADDING_LOGIT).requires_grad_()
    ours, theirs = log_softmax(logits), torch.log_softmax(logits, -1)
    torch.testing.assert_close(ours[~masked], theirs[~masked])
    chances = probabilities(ours)
    assert (chances[masked] == 0).all()
    torch.testing.assert_close(chances, theirs.exp())
    weights = torch.randn(500, 3, 10, generator=generator).to(dtype)
    (ours_grad,) = torch.autograd.grad((ours * weights * ~masked).sum(), logits)
    (theirs_grad,) = torch.autograd.grad((theirs * weights * ~masked).sum(), logits)
    torch.testing.assert_close(ours_grad, theirs_grad)


def distribution_inputs(games: int, intents: int, houses: int, dtype: torch.dtype,
                        seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Masked logits as the network makes them (an intent may be masked, houses are masked
    in most rows, the taken action never is), a taken action per game, and ``credited``."""
    generator = torch.Generator().manual_seed(seed)
    intent_logits = torch.randn(games, intents, generator=generator, dtype=dtype) * 3
    house_logits = torch.randn(games, intents, houses, generator=generator, dtype=dtype) * 3
    intent_masked = torch.rand(games, intents, generator=generator) < 0.3
    house_masked = torch.rand(games, intents, houses, generator=generator) < 0.6
    intent = torch.randint(0, intents, (games,), generator=generator)
    house = torch.randint(0, houses, (games,), generator=generator)
    intent_masked[torch.arange(games), intent] = False
    house_masked[torch.arange(games), :, house] = False
    intent_logits = intent_logits.masked_fill(intent_masked, PADDING_LOGIT)
    house_logits = house_logits.masked_fill(house_masked, PADDING_LOGIT)
    credited = torch.arange(intents) % 2 == 1  # e.g. REST uncredited, WORK credited
    return (intent_logits.requires_grad_(), house_logits.requires_grad_(), intent, house,
            credited)


@pytest.mark.parametrize(("games", "intents", "houses"), [(1, 2, 2), (300, 2, 10),
                                                          (257, 4, 10), (64, 4, 7)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_and_gradients_match_the_reference(games: int, intents: int, houses: int,
                                                   dtype: torch.dtype) -> None:
    inputs = distribution_inputs(games, intents, houses, dtype)
    fused, reference = log_prob_and_entropy(*inputs), log_prob_and_entropy_reference(*inputs)
    for ours, theirs in zip(fused, reference, strict=True):
        assert ours.shape == theirs.shape == (games,) and ours.dtype == dtype
        torch.testing.assert_close(ours, theirs)
    generator = torch.Generator().manual_seed(1)
    weights = [torch.randn(games, generator=generator, dtype=dtype) for _ in range(2)]

    def gradients(outputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        loss = sum((o * w).sum() for o, w in zip(outputs, weights, strict=True))
        return torch.autograd.grad(loss, inputs[:2])

    for ours, theirs in zip(gradients(fused), gradients(reference), strict=True):
        torch.testing.assert_close(ours, theirs)


def test_masked_logits_get_no_gradient() -> None:
    intent_logits, house_logits, *rest = distribution_inputs(200, 4, 10, torch.float32)
    log_prob, entropy = log_prob_and_entropy(intent_logits, house_logits, *rest)
    grads = torch.autograd.grad((log_prob + entropy).sum(), (intent_logits, house_logits))
    for logits, grad in zip((intent_logits, house_logits), grads, strict=True):
        masked = logits.detach() == PADDING_LOGIT
        assert masked.any() and (grad[masked] == 0).all()


def test_gradients_pass_the_numerical_check() -> None:
    """Unmasked logits in float64, where finite differences are exact enough."""
    generator = torch.Generator().manual_seed(2)
    inputs = (torch.randn(6, 4, generator=generator, dtype=torch.float64).requires_grad_(),
              torch.randn(6, 4, 5, generator=generator, dtype=torch.float64).requires_grad_(),
              torch.tensor([0, 1, 2, 3, 1, 3]), torch.tensor([0, 4, 2, 1, 3, 0]),
              torch.tensor([False, True, True, False]))
    assert torch.autograd.gradcheck(log_prob_and_entropy, inputs)


def draw_intents(log_probs: torch.Tensor, generator: torch.Generator | None,
                 compiled: bool) -> torch.Tensor:
    """One categorical draw per row, by draw_categorical or as the intent of the compiled
    ``draw`` (with one house per intent, so that only the intent is drawn)."""
    if not compiled:
        return draw_categorical(log_probs, generator)
    house_logits = torch.zeros(*log_probs.shape, 1)
    credited = torch.zeros(log_probs.shape[1], dtype=torch.bool)
    return draw(log_probs, house_logits, credited, generator)[0]


@pytest.mark.parametrize("compiled", [False, True])
def test_draws_follow_the_distribution_and_never_pick_an_impossible_category(
        compiled: bool) -> None:
    probs = torch.tensor([[0.0, 0.5, 0.0, 0.3, 0.2, 0.0]]).repeat(200_000, 1)
    generator = torch.Generator().manual_seed(0)
    drawn = draw_intents(probs.log(), generator, compiled)
    frequencies = torch.bincount(drawn, minlength=6) / len(drawn)
    # 4 standard errors of a frequency near 0.5 over 200,000 draws: 0.0045.
    torch.testing.assert_close(frequencies, probs[0], atol=0.0045, rtol=0)


@pytest.mark.parametrize("compiled", [False, True])
def test_a_uniform_number_at_the_top_still_draws_a_possible_category(
        monkeypatch: pytest.MonkeyPatch, compiled: bool) -> None:
    """Rounding can put uniform x total at the total; the trailing impossible category
    must not be drawn then."""
    monkeypatch.setattr(torch, "rand", lambda *shape, **kw: torch.ones(*shape))
    log_probs = torch.tensor([[0.4, 0.6, 0.0], [0.0, 1.0, 0.0]]).log()
    assert draw_intents(log_probs, None, compiled).tolist() == [1, 1]


@pytest.mark.parametrize("compiled", [False, True])
def test_a_uniform_number_at_the_bottom_skips_masked_categories(
        monkeypatch: pytest.MonkeyPatch, compiled: bool) -> None:
    """A uniform number of exactly 0 must draw the first possible category, not a masked
    one before it (masked logits are PADDING_LOGIT, far below EXP_FLOOR)."""
    monkeypatch.setattr(torch, "rand", lambda *shape, **kw: torch.zeros(*shape))
    logits = torch.tensor([[PADDING_LOGIT, PADDING_LOGIT, 0.3, 0.1]])
    assert draw_intents(log_softmax(logits), None, compiled).tolist() == [2]


@pytest.mark.parametrize(("intents", "houses"), [(2, 10), (4, 7)])
def test_compiled_draws_match_the_reference(intents: int, houses: int) -> None:
    """The same uniform numbers give the same actions (the two differ only in rounding,
    which moves a draw only when a uniform number falls within rounding of a boundary)
    and the same log-probabilities as scoring the action."""
    intent_logits, house_logits, _, _, credited = distribution_inputs(
        5000, intents, houses, torch.float32)
    intent_logits, house_logits = intent_logits.detach(), house_logits.detach()
    ours = draw(intent_logits, house_logits, credited, torch.Generator().manual_seed(3))
    theirs = draw_reference(intent_logits, house_logits, credited,
                            torch.Generator().manual_seed(3))
    assert torch.equal(ours[0], theirs[0]) and torch.equal(ours[1], theirs[1])
    torch.testing.assert_close(ours[2], theirs[2])
    scored, _ = log_prob_and_entropy(intent_logits, house_logits, ours[0], ours[1], credited)
    torch.testing.assert_close(ours[2], scored)
