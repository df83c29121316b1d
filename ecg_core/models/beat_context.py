"""Template-contrast residual beat network (this project's design).

Two ideas make beat classes carry across patients (the inter-patient protocol): each beat is shown
beside the patient's own usual beat (the record's template), so the network learns "different from
this patient's normal" rather than one patient's shape; and RR intervals enter as log ratios to the
patient's own rhythm (de Chazal 2004; Llamedo & Martinez 2011). A small residual 1-D CNN reads the
beat, the template and their difference; a dense net reads the RR ratios; both are fused.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .layers import ConvBNAct, ResBlock1d, beat_head, rr_mlp
from .registry import register_model

__all__ = ["TemplateContrastNet"]


class TemplateContrastNet(nn.Module):
    """Inputs (a dict): ``x`` and ``template`` ``(B, n_leads, 280)``, ``rr`` ``(B, n_rr)`` positive features.

    ``num_classes=0`` returns the fused features.
    """

    def __init__(self, num_classes: int = 5, in_leads: int = 1, n_rr: int = 9, width: int = 32,
                 depth: int = 3, rr_hidden: int = 32, dropout: float = 0.3):
        super().__init__()
        c_in = 3 * in_leads  # beat, template, difference
        blocks = [ConvBNAct(c_in, width, 9, stride=2)]
        c = width
        for i in range(depth):
            c_out = width * 2 ** min(i, 2)
            blocks.append(ResBlock1d(c, c_out, k=7, stride=2, dropout=0.1))
            c = c_out
        self.cnn = nn.Sequential(*blocks)
        self.rr_fc = rr_mlp(n_rr, rr_hidden)
        self.num_features = 2 * c + rr_hidden + in_leads
        self.head = beat_head(self.num_features, num_classes, dropout) if num_classes else nn.Identity()

    def forward_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, t = batch["x"], batch["template"]
        h = self.cnn(torch.cat([x, t, x - t], dim=1))
        corr = (x * t).mean(dim=-1)  # both z-scored: Pearson correlation with the usual beat, per lead
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)
        return torch.cat([pooled, self.rr_fc(batch["rr"]), corr], dim=1)

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(feats)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.forward_head(self.forward_features(batch))


@register_model
def beat_template_resnet(**kwargs) -> TemplateContrastNet:
    return TemplateContrastNet(**kwargs)
