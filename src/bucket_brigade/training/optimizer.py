"""Adam over a network whose parameters live in one flat tensor (:class:`FlatAdam`).

The policy network has 20 parameter tensors, all small. A gradient step's bookkeeping
(zeroing the gradients, scaling them when clipping, Adam's update) costs PyTorch's
overhead per tensor, about as much as the arithmetic on all of them. With every
parameter a view into one flat tensor, and every gradient a view into another, each of
those is one operation. The arithmetic is Adam's, element by element, so a run is the
same bit for bit as with ``torch.optim.Adam`` over the parameters one by one, and the
state dict is in that form too: checkpoints load into either.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class FlatAdam(torch.optim.Adam):
    """``torch.optim.Adam`` over all of ``module``'s parameters, which (with their
    gradients) become views into one flat tensor; ``settings`` are Adam's (lr, eps, ...).

    Gradients stay where they are: :meth:`zero_grad` zeroes them in place and backward
    passes add into them. Replacing a parameter's ``grad`` (``module.zero_grad()`` sets
    them to None) would cut it off from the optimizer, so :meth:`step` refuses to run
    after that. :attr:`gradients` is the flat gradient, for clipping in one operation.
    """

    def __init__(self, module: nn.Module, **settings: Any) -> None:
        self.parameters_in_order = list(module.parameters())
        if not self.parameters_in_order:
            raise ValueError("FlatAdam needs a module with parameters")
        flat = nn.Parameter(torch.cat([p.detach().reshape(-1)
                                       for p in self.parameters_in_order]))
        flat.grad = torch.zeros_like(flat)
        self._gradient_views = []
        offset = 0
        for parameter in self.parameters_in_order:
            size = parameter.numel()
            parameter.data = flat.data[offset:offset + size].view_as(parameter)
            parameter.grad = flat.grad[offset:offset + size].view_as(parameter)
            self._gradient_views.append(parameter.grad)
            offset += size
        super().__init__([flat], **settings)
        self.flat = flat

    @property
    def gradients(self) -> torch.Tensor:
        """All the parameters' gradients, as one flat tensor (a view, not a copy)."""
        return self.flat.grad

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Zero the gradients in place (``set_to_none`` is ignored: they must stay views)."""
        self.flat.grad.zero_()

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        if any(p.grad is not view
               for p, view in zip(self.parameters_in_order, self._gradient_views)):
            raise RuntimeError("a parameter's gradient was replaced (module.zero_grad() sets "
                               "them to None): use FlatAdam.zero_grad()")
        return super().step(closure)

    def state_dict(self) -> dict[str, Any]:
        """Adam's state dict over the parameters one by one (the flat state, cut up)."""
        flat_state = super().state_dict()
        moments = flat_state["state"].get(0, {})
        state = {}
        for index, piece in enumerate(self._pieces()):
            if moments:
                state[index] = {key: value.clone() if key == "step" else
                                value[piece].view_as(self.parameters_in_order[index]).clone()
                                for key, value in moments.items()}
        groups = [{**group, "params": list(range(len(self.parameters_in_order)))}
                  for group in flat_state["param_groups"]]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load Adam's state dict over the parameters one by one (as :meth:`state_dict`
        writes it, and as ``torch.optim.Adam(module.parameters())`` does)."""
        groups = state_dict["param_groups"]
        count = len(self.parameters_in_order)
        if len(groups) != 1 or list(groups[0]["params"]) != list(range(count)):
            raise ValueError(f"the optimizer state is not Adam's over {count} parameters "
                             "in one group")
        per_parameter = state_dict["state"]
        moments: dict[str, torch.Tensor] = {}
        if per_parameter:
            if sorted(per_parameter) != list(range(count)):
                raise ValueError("the optimizer state covers only some of the parameters")
            first = per_parameter[0]
            moments = {key: first[key].clone() if key == "step" else
                       torch.cat([per_parameter[i][key].reshape(-1) for i in range(count)])
                       for key in first}
        super().load_state_dict({"state": {0: moments} if moments else {},
                                 "param_groups": [{**groups[0], "params": [0]}]})

    def _pieces(self) -> list[slice]:
        pieces, offset = [], 0
        for parameter in self.parameters_in_order:
            pieces.append(slice(offset, offset + parameter.numel()))
            offset += parameter.numel()
        return pieces
