"""A network's gradients held in one flat tensor (:class:`FlatGradients`).

The default policy network has 16 parameter tensors, all small. Zeroing their gradients and
scaling them when clipping cost PyTorch's overhead per tensor, more than the arithmetic
on all of them. With every parameter's ``grad`` a view into one flat tensor, each is one
operation. The numbers are those of ``optimizer.zero_grad()`` and
``nn.utils.clip_grad_norm_`` bit for bit: the norm is still taken per parameter and then
over those norms, and scaling is element by element. The optimizer (Adam, over the
parameters one by one) is unchanged, and so are its steps and its state dict.
"""

from __future__ import annotations

import torch
from torch import nn


class FlatGradients:
    """Every parameter of ``module`` gets a ``grad`` that is a view into :attr:`flat`, which
    backward passes then add into. Call :meth:`zero_` instead of ``optimizer.zero_grad()``
    or ``module.zero_grad()``: those set the gradients to None, which would cut them off
    from the flat tensor, so both methods refuse to run after that."""

    def __init__(self, module: nn.Module) -> None:
        self.parameters = [p for p in module.parameters() if p.requires_grad]
        if not self.parameters:
            raise ValueError("FlatGradients needs a module with trainable parameters")
        first = self.parameters[0]
        self.flat = torch.zeros(sum(p.numel() for p in self.parameters), dtype=first.dtype,
                                device=first.device)
        self._views = []
        offset = 0
        for parameter in self.parameters:
            view = self.flat[offset:offset + parameter.numel()].view_as(parameter)
            parameter.grad = view
            self._views.append(view)
            offset += parameter.numel()

    def zero_(self) -> None:
        """Zero every gradient, in place."""
        self._check_views()
        self.flat.zero_()

    def clip_norm_(self, max_norm: float) -> torch.Tensor:
        """``nn.utils.clip_grad_norm_(parameters, max_norm)``: the norm over the parameters'
        gradient norms, then, when above ``max_norm``, the flat gradient scaled down (with
        PyTorch's own formula) in one operation. Returns the norm before clipping."""
        self._check_views()
        total_norm = nn.utils.get_total_norm(self._views, foreach=True)
        self.flat.mul_(torch.clamp(max_norm / (total_norm + 1e-6), max=1.0))
        return total_norm

    def _check_views(self) -> None:
        if any(p.grad is not view for p, view in zip(self.parameters, self._views)):
            raise RuntimeError("a parameter's gradient was replaced (zero_grad() sets them to "
                               "None): zero them with FlatGradients.zero_()")


class SeatGradients(FlatGradients):
    """:class:`FlatGradients` of a module whose every parameter is stacked per seat
    ([K, ...]: ``training.sharing.SeatStack``), clipped seat by seat as K networks'
    gradients would be: each seat's norm over its parameters' gradient norms, and each
    seat's gradient scaled by its own factor."""

    def __init__(self, module: nn.Module, num_seats: int) -> None:
        super().__init__(module)
        self.num_seats = num_seats
        # The seat of each entry of the flat gradient (parameter after parameter).
        self.seat_of_entry = torch.cat([
            torch.arange(num_seats, device=self.flat.device).repeat_interleave(p[0].numel())
            for p in self.parameters])

    def clip_norm_(self, max_norm: float) -> torch.Tensor:
        """Each seat's ``nn.utils.clip_grad_norm_``; returns the K norms before clipping."""
        self._check_views()
        norms = torch.linalg.vector_norm(torch.stack([
            torch.linalg.vector_norm(view.flatten(1), dim=1) for view in self._views]), dim=0)
        factors = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
        self.flat.mul_(factors[self.seat_of_entry])
        return norms
