"""Uncertainty: Monte Carlo dropout, deep ensembles, temperature scaling, calibration error and
selective prediction.

MC dropout (Gal & Ghahramani 2016) samples a network with its dropout layers on and everything else in
eval mode: BatchNorm keeps its running statistics (switching the whole model to ``train()``, as the
reference project did, makes every prediction depend on the rest of the batch and updates the stored
statistics). Temperature scaling (Guo et al. 2017) fits one number on validation logits. ECE is the
weighted gap between confidence and accuracy over equal-width bins; for multi-label outputs every
(record, class) probability counts as one binary prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

__all__ = ["mc_dropout", "mc_predict", "ensemble_predict", "TemperatureScaler", "ece", "reliability_bins",
           "selective_accuracy", "Prediction"]

_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


@contextmanager
def mc_dropout(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode with only its dropout layers sampling; restores the previous modes."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in model.modules():
        if isinstance(m, _DROPOUT):
            m.train()
    try:
        yield model
    finally:
        for m, was in modes.items():
            m.train(was)


@dataclass
class Prediction:
    """Samples ``(n_samples, B, K)`` of probabilities, their mean and standard deviation."""

    samples: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.samples.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        return self.samples.std(axis=0)


def _probs(out, multilabel: bool, key: str | None) -> torch.Tensor:
    logits = out[key] if key is not None else out
    return torch.sigmoid(logits) if multilabel else logits.softmax(dim=-1)


def mc_predict(model: nn.Module, batch, n_samples: int = 30, multilabel: bool = True, key: str | None = None,
               seed: int = 0, chunk: int = 32) -> Prediction:
    """``n_samples`` stochastic forward passes with MC dropout (seeded, so a read is reproducible).

    The passes run ``chunk`` at a time as copies of the batch stacked along the batch axis (every copy
    draws its own dropout masks), which is several times faster than one pass after another."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        with mc_dropout(model), torch.inference_mode():
            out = []
            for lo in range(0, n_samples, chunk):
                k = min(chunk, n_samples - lo)
                p = _probs(model(_repeat(batch, k)), multilabel, key)
                out.append(p.reshape(k, -1, *p.shape[1:]))
            s = torch.cat(out)
    finally:
        torch.random.set_rng_state(gen_state)
    return Prediction(s.float().numpy())


def _repeat(batch, k: int):
    """``k`` copies of a batch (a tensor or a dict of tensors) stacked along the batch axis."""
    if isinstance(batch, dict):
        return {n: _repeat(v, k) for n, v in batch.items()}
    return batch.repeat(k, *([1] * (batch.dim() - 1))) if k > 1 else batch


def ensemble_predict(models: list[nn.Module], batch, multilabel: bool = True, key: str | None = None) -> Prediction:
    """One deterministic pass per member (deep ensemble); the spread across members is the uncertainty."""
    with torch.inference_mode():
        s = []
        for m in models:
            m.eval()
            s.append(_probs(m(batch), multilabel, key))
    return Prediction(torch.stack(s).float().numpy())


class TemperatureScaler:
    """Divide logits by one temperature ``T`` fitted by maximum likelihood on validation data (sigmoid
    outputs for multi-label, softmax otherwise)."""

    def __init__(self, multilabel: bool = True):
        self.multilabel = multilabel
        self.temperature = 1.0

    def fit(self, logits: np.ndarray, targets: np.ndarray, max_iter: int = 200) -> TemperatureScaler:
        z = torch.as_tensor(logits, dtype=torch.float64)
        y = torch.as_tensor(targets)
        log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")
        loss_fn: Callable = (nn.BCEWithLogitsLoss() if self.multilabel else nn.CrossEntropyLoss())
        yt = y.double() if self.multilabel else y.long()

        def closure():
            opt.zero_grad()
            loss = loss_fn(z / log_t.exp(), yt)
            loss.backward()
            return loss

        opt.step(closure)
        self.temperature = float(log_t.detach().exp())
        return self

    def transform(self, logits: np.ndarray) -> np.ndarray:
        z = np.asarray(logits, dtype=np.float64) / self.temperature
        if self.multilabel:
            return 1.0 / (1.0 + np.exp(-z))
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def _binary_view(probs: np.ndarray, targets: np.ndarray, multilabel: bool) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) pairs: per (record, class) for multi-label, top class for multi-class."""
    p, y = np.asarray(probs, dtype=np.float64), np.asarray(targets)
    if multilabel:
        p, y = p.ravel(), y.ravel()
        conf = np.where(p >= 0.5, p, 1 - p)
        return conf, ((p >= 0.5) == (y > 0.5)).astype(np.float64)
    return p.max(axis=-1), (p.argmax(axis=-1) == y).astype(np.float64)


def reliability_bins(probs: np.ndarray, targets: np.ndarray, n_bins: int = 10, multilabel: bool = True) -> dict:
    """Per confidence bin: mean confidence, accuracy and count (a reliability diagram's data)."""
    conf, correct = _binary_view(probs, targets, multilabel)
    lo = 0.5 if multilabel else 0.0  # binary confidences start at 0.5
    edges = np.linspace(lo, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    out = {"edges": edges.tolist(), "confidence": [], "accuracy": [], "count": []}
    for b in range(n_bins):
        sel = idx == b
        out["count"].append(int(sel.sum()))
        out["confidence"].append(float(conf[sel].mean()) if sel.any() else float("nan"))
        out["accuracy"].append(float(correct[sel].mean()) if sel.any() else float("nan"))
    return out


def ece(probs: np.ndarray, targets: np.ndarray, n_bins: int = 10, multilabel: bool = True) -> float:
    """Expected calibration error: sum over bins of (bin share) x |accuracy - confidence|.

    >>> round(ece(np.array([[0.9], [0.9], [0.6], [0.6]]), np.array([[1], [1], [1], [0]])), 3)
    0.1
    """
    b = reliability_bins(probs, targets, n_bins, multilabel)
    n = sum(b["count"])
    return float(sum(c / n * abs(a - f) for c, a, f in zip(b["count"], b["accuracy"], b["confidence"]) if c))


def selective_accuracy(correct: np.ndarray, uncertainty: np.ndarray, coverage: float = 0.8) -> float:
    """Accuracy on the ``coverage`` share of cases with the lowest uncertainty."""
    correct, uncertainty = np.asarray(correct, dtype=np.float64), np.asarray(uncertainty, dtype=np.float64)
    k = max(1, int(round(coverage * len(correct))))
    keep = np.argsort(uncertainty, kind="stable")[:k]
    return float(correct[keep].mean())
