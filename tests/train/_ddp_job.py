"""The resume test's small job under torchrun: each rank writes its final weights and history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from tests.train._resume_job import job

if __name__ == "__main__":
    out = Path(sys.argv[1])
    res, model = job()
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.save(model.state_dict(), out / f"rank{rank}.pt")
    (out / f"rank{rank}.json").write_text(json.dumps({"world": world, "history": res.history,
                                                      "best_epoch": res.best_epoch}))
    dist.destroy_process_group()
