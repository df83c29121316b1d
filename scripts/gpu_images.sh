#!/usr/bin/env bash
# One GPU call for the image models (an H100 or H200 with 16 cores; the page cache travels, LUDB need not):
# the keypoint ViT-DETR goes on from the shipped weights on a pre-rendered page pool (GPU-bound), and the
# panel Mask R-CNN trains from scratch beside it on pages rendered on the fly. Both anneal to their time
# limits. PANELS=0 trains the keypoints alone; SEED picks the page pool's variants (a continued run on fresh
# pages); KP_KWARGS adds model options to the continued model (e.g. '{"refine": true}': a keypoint refiner,
# new and untrained, on top of the shipped detector); KP_BATCH and KP_LR its batch and learning rate.
# Outputs (weights, cards, logs) in OUT_DIR (default runs/gpu); held-out fold 0 is not read here:
#   python -m ecg_core evaluate keypoints --weights runs/gpu/keypoints_detr.pt --cache .devcache/ludb_pages.npz ...
#   python -m ecg_core evaluate panels --weights runs/gpu/panels_maskrcnn.pt --cache .devcache/ludb_pages.npz ...
set -o pipefail
out=${OUT_DIR:-runs/gpu}
cache=${CACHE:-.devcache/ludb_pages.npz}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 PYTHONPATH=.
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
  (nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader -l 20 > "$out/gpu_util.txt" 2>&1 &)
fi
pan_rc=skipped
if [ "${PANELS:-1}" != 0 ]; then
python -m ecg_core -v train panels --cache "$cache" --workers "${PANEL_WORKERS:-6}" --epochs 100 \
  --batch-size "${PANEL_BATCH:-8}" --lr 1e-3 --patience 100 --repeats 4 --amp off \
  --time-limit-min "${PANEL_MIN:-6.5}" --anneal-to-time --img-size ${IMG:-512 1024} \
  --run-dir runs/gpu_panels_run --out "$out/panels_maskrcnn.pt" > "$out/panels_log.txt" 2>&1 &
pan=$!
fi
python -m ecg_core -v train keypoints --init "${KP_INIT:-weights/keypoints_detr.pt}" --cache "$cache" --workers "${KP_WORKERS:-10}" \
  --model-kwargs "${KP_KWARGS:-{\}}" --pool "${KP_POOL:-32}" --epochs 100 --lr "${KP_LR:-2e-4}" --seed "${SEED:-0}" --batch-size "${KP_BATCH:-16}" --time-limit-min "${KP_MIN:-5.5}" \
  --anneal-to-time --run-dir runs/gpu_kp_run --out "$out/keypoints_detr.pt" 2>&1 | tee "$out/kp_log.txt"
kp=$?
if [ -n "${pan:-}" ]; then
  wait "$pan"
  pan_rc=$?
  tail -n 40 "$out/panels_log.txt"
fi
cat runs/gpu_kp_run/metrics.jsonl runs/gpu_panels_run/metrics.jsonl > "$out/metrics.txt" 2>/dev/null
echo "exit: keypoints $kp, panels $pan_rc"
