"""The fused per-house layer against its plain PyTorch definition: values and gradients."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from bucket_brigade.training.house_layer import house_layer, house_layer_reference


def layer_inputs(games: int, houses: int, width: int, intents: int, rows: int,
                 dtype: torch.dtype, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)

    def tensor(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=dtype).requires_grad_()

    index = torch.randint(0, rows, (games, houses), generator=generator)
    return [tensor(rows, width), index, tensor(games, width), tensor(houses, width),
            tensor(intents, width), tensor(intents)]


@pytest.mark.parametrize(("games", "houses", "width", "intents"),
                         [(1, 2, 1, 2), (3, 10, 16, 2), (257, 10, 16, 4), (64, 7, 5, 3)])
def test_values_and_gradients_match_the_reference(games: int, houses: int, width: int,
                                                   intents: int) -> None:
    inputs = layer_inputs(games, houses, width, intents, rows=40, dtype=torch.float32)
    fused, reference = house_layer(*inputs), house_layer_reference(*inputs)
    for ours, theirs in zip(fused, reference, strict=True):
        assert ours.shape == theirs.shape
        torch.testing.assert_close(ours, theirs)
    generator = torch.Generator().manual_seed(1)
    weights = [torch.randn(t.shape, generator=generator) for t in reference]
    differentiable = [t for t in inputs if t.requires_grad]

    def gradients(outputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        loss = sum((o * w).sum() for o, w in zip(outputs, weights, strict=True))
        return torch.autograd.grad(loss, differentiable)

    for ours, theirs in zip(gradients(fused), gradients(reference), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_gradients_pass_the_numerical_check() -> None:
    inputs = layer_inputs(games=9, houses=5, width=4, intents=3, rows=12, dtype=torch.float64)
    assert torch.autograd.gradcheck(house_layer, inputs)


def test_a_layer_stacked_per_seat_is_each_seats_own_layer() -> None:
    """Independent learners' stacked weights: every seat's values and gradients are those
    of its own layer, bit for bit, on the compiled path and by the reference."""
    seats = [layer_inputs(games=33, houses=10, width=8, intents=2, rows=30,
                          dtype=torch.float32, seed=seed) for seed in range(3)]
    stacked = [torch.stack([inputs[i].detach() for inputs in seats]).requires_grad_(i != 1)
               for i in range(len(seats[0]))]
    for layer in (house_layer, house_layer_reference):
        outputs = layer(*stacked)
        (outputs[0].sum() + outputs[1].square().sum()).backward()
        for seat, inputs in enumerate(seats):
            own = layer(*inputs)
            for ours, theirs in zip(outputs, own, strict=True):
                torch.testing.assert_close(ours[seat], theirs, rtol=0, atol=0)
            (own[0].sum() + own[1].square().sum()).backward()
            for ours, theirs in zip(stacked, inputs, strict=True):
                if theirs.requires_grad:
                    torch.testing.assert_close(ours.grad[seat], theirs.grad, rtol=1e-6,
                                               atol=1e-6)
                    theirs.grad = None
        for tensor in stacked:
            tensor.grad = None


def test_the_layer_leaves_pytorchs_thread_count_alone() -> None:
    """Numba's OpenMP layer would reset PyTorch's thread count; the layer runs on the
    calling thread, so after a pass forward and backward PyTorch's is as set."""
    script = (
        "import torch; torch.set_num_threads(1)\n"
        "from bucket_brigade.training.house_layer import house_layer\n"
        "C, D, B, H, K = 20, 4, 600, 10, 2\n"
        "inputs = [torch.randn(C, D, requires_grad=True), torch.randint(0, C, (B, H)),\n"
        "          torch.randn(B, D, requires_grad=True), torch.randn(H, D), torch.randn(K, D),\n"
        "          torch.randn(K)]\n"
        "logits, mean = house_layer(*inputs)\n"
        "(logits.sum() + mean.sum()).backward()\n"
        "print(torch.get_num_threads())\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300, check=True)
    assert done.stdout.split() == ["1"]
