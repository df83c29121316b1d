"""Classification metrics: confusion matrix, per-class Se / +P / F1, accuracy, macro-F1; for detections,
one-to-one greedy pairing and precision / recall / F1 from counts."""

from __future__ import annotations

import numpy as np

__all__ = ["confusion", "class_report", "greedy_pairs", "detection_prf"]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of beats of true class ``i`` predicted as ``j``."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def class_report(cm: np.ndarray, classes: tuple[str, ...], macro_over: tuple[str, ...] = ("N", "S", "V", "F")) -> dict:
    """Per class ``se``, ``ppv``, ``f1`` (fractions; 0 where undefined), ``n``; ``accuracy``; ``macro_f1_nsvf``
    (mean F1 over ``macro_over``); ``confusion`` as nested lists.

    ``cm`` may have rows and columns beyond ``classes`` (e.g. "no reference beat" / "not detected"):
    they count against sensitivity and positive predictivity; accuracy is over the rows of ``classes``.
    """
    out: dict = {}
    tp = np.diag(cm)[: len(classes)].astype(np.float64)
    n_true = cm.sum(axis=1).astype(np.float64)
    n_pred = cm.sum(axis=0).astype(np.float64)
    for i, c in enumerate(classes):
        se = tp[i] / n_true[i] if n_true[i] else 0.0
        ppv = tp[i] / n_pred[i] if n_pred[i] else 0.0
        f1 = 2 * se * ppv / (se + ppv) if se + ppv else 0.0
        out[c] = {"se": float(se), "ppv": float(ppv), "f1": float(f1), "n": int(n_true[i])}
    k = len(classes)
    out["accuracy"] = float(np.trace(cm[:k, :k]) / max(cm[:k, :].sum(), 1))
    out["macro_f1_nsvf"] = float(np.mean([out[c]["f1"] for c in macro_over]))
    out["confusion"] = cm.tolist()
    return out


def greedy_pairs(ok: np.ndarray, order: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one pairs ``(i, j)`` among the True entries of ``ok`` (predictions x truths), taken in
    increasing ``order`` (e.g. distance, or minus IoU); each row and each column is used at most once."""
    used_i, used_j, pairs = set(), set(), []
    for i, j in sorted(zip(*np.nonzero(ok)), key=lambda ij: order[ij]):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((int(i), int(j)))
    return pairs


def detection_prf(tp: int, fp: int, fn: int) -> dict:
    """Precision, recall and F1 of detections from their counts (0 where undefined)."""
    prec, rec = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"precision": prec, "recall": rec, "f1": 2 * prec * rec / max(prec + rec, 1e-12)}
