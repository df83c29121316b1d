"""Training: one loop for every task, losses, metrics, and the beat-classification task."""

from .loop import TensorBatches, TrainConfig, evaluate, fit, train_one_epoch
from .losses import LOSSES, FocalLoss, LDAMLoss, build_loss, class_balanced_weights

__all__ = ["LOSSES", "FocalLoss", "LDAMLoss", "TensorBatches", "TrainConfig", "build_loss", "class_balanced_weights",
           "evaluate", "fit", "train_one_epoch"]
