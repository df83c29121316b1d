"""Losses for imbalanced classes.

* ``FocalLoss`` (Lin et al. 2017): ``-alpha_y (1 - p_y)^gamma log p_y``.
* ``class_balanced_weights`` (Cui et al. 2019): weight ``(1 - beta) / (1 - beta^n_c)``, normalised to sum
  to the number of classes; usable with cross-entropy, focal or LDAM.
* ``LDAMLoss`` (Cao et al. 2019): margins ``C / n_c^(1/4)`` (largest ``max_m``) subtracted from the true
  class logit, scaled by ``s``; with deferred re-weighting (DRW) the class weights switch on at a
  given epoch (``set_epoch``).
* ``weighted_cross_entropy``: inverse-frequency weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["FocalLoss", "LDAMLoss", "class_balanced_weights", "inverse_frequency_weights", "build_loss", "LOSSES"]


def class_balanced_weights(counts: Sequence[int], beta: float = 0.999) -> torch.Tensor:
    """Class-balanced weights from the effective number of samples ``(1 - beta^n) / (1 - beta)``.

    Classes with no sample get weight 0. Weights sum to the number of present classes.
    """
    n = np.asarray(counts, dtype=np.float64)
    eff = 1.0 - np.power(beta, n)
    w = np.where(n > 0, (1.0 - beta) / np.maximum(eff, 1e-12), 0.0)
    w = w / w.sum() * (n > 0).sum()
    return torch.tensor(w, dtype=torch.float32)


def inverse_frequency_weights(counts: Sequence[int]) -> torch.Tensor:
    """Weights ``N / (K n_c)`` (0 for empty classes)."""
    n = np.asarray(counts, dtype=np.float64)
    k = (n > 0).sum()
    w = np.where(n > 0, n.sum() / (k * np.maximum(n, 1)), 0.0)
    return torch.tensor(w, dtype=torch.float32)


class FocalLoss(nn.Module):
    """Multi-class focal loss, mean over the batch. ``alpha``: per-class weights or None."""

    def __init__(self, gamma: float = 1.0, alpha: torch.Tensor | None = None):
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("alpha", None if alpha is None else torch.as_tensor(alpha, dtype=torch.float32))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -((1.0 - logp.exp()) ** self.gamma) * logp
        if self.alpha is not None:
            loss = loss * self.alpha[target]
        return loss.mean()


class LDAMLoss(nn.Module):
    """Label-distribution-aware margin loss with optional deferred re-weighting.

    Args:
        counts: training samples per class.
        max_m: the largest margin (the rarest class's).
        s: logit scale.
        drw_epoch: from this epoch on, class-balanced weights (``beta``) apply; None: never.
    """

    def __init__(self, counts: Sequence[int], max_m: float = 0.5, s: float = 30.0, drw_epoch: int | None = None,
                 beta: float = 0.999):
        super().__init__()
        n = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
        m = 1.0 / np.sqrt(np.sqrt(n))
        m = m * (max_m / m.max())
        self.register_buffer("margins", torch.tensor(m, dtype=torch.float32))
        self.register_buffer("drw_weights", class_balanced_weights(counts, beta))
        self.s = float(s)
        self.drw_epoch = drw_epoch
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        shifted = logits - F.one_hot(target, logits.shape[1]) * self.margins[None, :]
        weight = self.drw_weights if self.drw_epoch is not None and self.epoch >= self.drw_epoch else None
        return F.cross_entropy(self.s * shifted, target, weight=weight)


def build_loss(name: str, counts: Sequence[int], **kw) -> nn.Module:
    """Loss ``name`` for training-set class ``counts``: ``ce``, ``weighted_ce``, ``cb_ce``, ``focal``,
    ``cb_focal``, ``ldam``, ``ldam_drw``."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(sorted(LOSSES))}")
    return LOSSES[name](counts, **kw)


LOSSES = {
    "ce": lambda counts, **kw: nn.CrossEntropyLoss(),
    "weighted_ce": lambda counts, **kw: nn.CrossEntropyLoss(weight=inverse_frequency_weights(counts)),
    "cb_ce": lambda counts, beta=0.999, **kw: nn.CrossEntropyLoss(weight=class_balanced_weights(counts, beta)),
    "focal": lambda counts, gamma=1.0, **kw: FocalLoss(gamma),
    "cb_focal": lambda counts, gamma=1.0, beta=0.999, **kw: FocalLoss(gamma, class_balanced_weights(counts, beta)),
    "ldam": lambda counts, max_m=0.5, s=30.0, **kw: LDAMLoss(counts, max_m, s),
    "ldam_drw": lambda counts, max_m=0.5, s=30.0, drw_epoch=10, beta=0.999, **kw: LDAMLoss(counts, max_m, s,
                                                                                           drw_epoch, beta),
}
