#!/usr/bin/env bash
# One GPU call for the delineation U-Net (an H100 or H200 with 16 cores): the five fold models train at
# once, each in its own process (`train delineation --folds k --run-dir D`; crops and augmentation on
# the CPU, one core each), annealed to MIN minutes, early-stopped on their inner validation records as
# on the CPU. LUDB travels as .devcache/ludb.tar.xz (`tar cJf` of ECG_DATA_DIR/ludb) and is unpacked
# there. CONFIGS: space-separated model-kwargs JSON, one run of five folds per entry (all at once). INIT:
# a checkpoint whose fold models each run goes on from (its head may grow a global row: '{"global_row":true}').
# EXTRA: more `train delineation` options for every run, e.g. EXTRA='--pacing-spikes 0.5'.
# wfdb is not on the device image: carry its wheel (.whl) and put it on PYTHONPATH before calling this.
# Outputs in OUT_DIR (default runs/gpu_delineation): cfg<i>/fold<k>/{model.pt,report.json,metrics.jsonl},
# logs. Put a run's folds into one checkpoint here (no held-out fold is read on the device):
#   python -m ecg_core train delineation --assemble OUT_DIR/cfg0 --out runs/delineation_gpu.pt
set -o pipefail
out=${OUT_DIR:-runs/gpu_delineation}
mkdir -p "$out" /tmp/ecgdata
tar xJf "${LUDB_TAR:-.devcache/ludb.tar.xz}" -C /tmp/ecgdata || exit 1
export ECG_DATA_DIR=/tmp/ecgdata PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 PYTHONPATH=".:${PYTHONPATH:-}" OMP_NUM_THREADS=1
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
  (nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader -l 20 > "$out/gpu_util.txt" 2>&1 &)
fi
i=0
pids=()
for kw in ${CONFIGS:-'{}'}; do
  for k in 0 1 2 3 4; do
    python -m ecg_core -v train delineation --folds "$k" --model-kwargs "$kw" --epochs 100000 --patience 100000 \
      --batch-size "${BATCH:-16}" --lr "${LR:-2e-3}" --seed "${SEED:-0}" --threads 1 --time-limit-min "${MIN:-7}" \
      --anneal-to-time ${INIT:+--init "$INIT"} ${EXTRA:-} --run-dir "$out/cfg$i" > "$out/cfg${i}_fold$k.log" 2>&1 &
    pids+=($!)
  done
  i=$((i + 1))
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
for f in "$out"/cfg*_fold*.log; do echo "== $f"; grep -v '^  epoch' "$f" | tail -n 3; grep '^  epoch' "$f" | tail -n 2; done
echo "exit: $rc"
