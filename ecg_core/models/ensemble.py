"""Mean ensemble: averages its members' class probabilities (deep-ensemble style)."""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["MeanEnsemble"]


class MeanEnsemble(nn.Module):
    """Members share one input; ``forward`` returns the log of the mean softmax, so argmax and
    cross-entropy work as for a single model; ``member_probs`` gives each member's probabilities."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def member_probs(self, batch) -> torch.Tensor:
        return torch.stack([m(batch).softmax(dim=1) for m in self.members])

    def forward(self, batch) -> torch.Tensor:
        return self.member_probs(batch).mean(dim=0).clamp_min(1e-8).log()
