"""Ensembles of classifiers that share one input: mean (deep ensembles), weighted and stacked, and the
deep-ensemble uncertainty of their members' disagreement.

Each ``forward`` returns log-probabilities, so argmax and cross-entropy work as for a single model.
"""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["MeanEnsemble", "WeightedEnsemble", "StackedEnsemble", "ensemble_uncertainty"]


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


def ensemble_uncertainty(member_probs: torch.Tensor) -> dict[str, torch.Tensor]:
    """Deep-ensemble uncertainty from members' probabilities ``(M, B, C)``: the mean, the members'
    spread per class (``std``), the predictive entropy (total uncertainty) and the mutual information
    between the prediction and the member (entropy of the mean minus the mean entropy: the part that
    comes from disagreement, i.e. the model's own uncertainty; Lakshminarayanan et al. 2017)."""
    p = member_probs.clamp_min(1e-12)
    mean = p.mean(dim=0)
    entropy = -(mean * mean.log()).sum(dim=-1)
    expected = -(p * p.log()).sum(dim=-1).mean(dim=0)
    return {"mean": mean, "std": member_probs.std(dim=0, unbiased=False), "entropy": entropy,
            "mutual_info": (entropy - expected).clamp_min(0.0)}


class WeightedEnsemble(MeanEnsemble):
    """A weighted mean of the members' probabilities; :meth:`fit_weights` chooses the weights (on the
    simplex, softmax-parametrised) that minimise the log loss on data none of the members trained on."""

    def __init__(self, members: list[nn.Module], weights: torch.Tensor | None = None):
        super().__init__(members)
        w = torch.full((len(members),), 1.0 / len(members)) if weights is None else torch.as_tensor(weights).float()
        self.register_buffer("weights", w / w.sum())

    def fit_weights(self, member_probs: torch.Tensor, y: torch.Tensor, steps: int = 300, lr: float = 0.1
                    ) -> WeightedEnsemble:
        """``member_probs`` ``(M, N, C)`` on held-out data, ``y`` ``(N,)`` class indices."""
        logits = torch.zeros(len(self.members), requires_grad=True)
        opt = torch.optim.Adam([logits], lr=lr)
        p = member_probs.detach().float()
        for _ in range(steps):
            w = logits.softmax(dim=0)
            mix = (w[:, None, None] * p).sum(dim=0).clamp_min(1e-12)
            loss = nn.functional.nll_loss(mix.log(), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.weights.copy_(logits.detach().softmax(dim=0))
        return self

    def forward(self, batch) -> torch.Tensor:
        p = self.member_probs(batch)
        return (self.weights.to(p.dtype)[:, None, None] * p).sum(dim=0).clamp_min(1e-8).log()


class StackedEnsemble(MeanEnsemble):
    """Stacking (Wolpert 1992): a multinomial logistic regression on the members' concatenated
    log-probabilities, fitted by :meth:`fit_stacker` on held-out predictions; it can learn that one
    member is better for one class and another for another."""

    def __init__(self, members: list[nn.Module], n_classes: int):
        super().__init__(members)
        self.stacker = nn.Linear(len(members) * n_classes, n_classes)
        with torch.no_grad():  # starts as the mean of the members' log-probabilities
            self.stacker.weight.copy_(torch.eye(n_classes).repeat(1, len(members)) / len(members))
            self.stacker.bias.zero_()

    def _features(self, member_probs: torch.Tensor) -> torch.Tensor:
        return member_probs.clamp_min(1e-8).log().permute(1, 0, 2).flatten(1)  # (N, M * C)

    def fit_stacker(self, member_probs: torch.Tensor, y: torch.Tensor, steps: int = 500, lr: float = 0.05,
                    weight_decay: float = 1e-3) -> StackedEnsemble:
        f = self._features(member_probs.detach().float())
        opt = torch.optim.Adam(self.stacker.parameters(), lr=lr, weight_decay=weight_decay)
        for _ in range(steps):
            loss = nn.functional.cross_entropy(self.stacker(f), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return self

    def forward(self, batch) -> torch.Tensor:
        return self.stacker(self._features(self.member_probs(batch))).log_softmax(dim=-1)
