"""Models: shipped model cards and the float vs quantised comparison."""

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages._common import init_state
from ecg_core.predict import weights_dir

init_state()
ROOT = Path(__file__).resolve().parents[1]

st.title("Models")
cards = sorted(weights_dir().glob("*.json"))
if not cards:
    st.info("No trained weights are shipped yet.")
for path in cards:
    card = json.loads(path.read_text())
    with st.expander(f"{card.get('file', path.stem)} · {card.get('architecture', '')} · {card.get('mode', '')}",
                     expanded=False):
        rows = []
        for split, label in (("ds2", "DS2, model alone (no premature-beat rule)"),
                             ("ds2_s_rule", "DS2, with the premature-beat rule")):
            if split in card:
                rows.append({"data": label, **{f"{c} F1": round(card[split][c]["f1"], 3)
                                               for c in ("N", "S", "V", "F")},
                             "macro-F1": round(card[split]["macro_f1_nsvf"], 3)})
        cv = card.get("cv_ds1", {}).get("cv_pooled")
        if cv:
            rows.insert(0, {"data": "DS1 CV, model alone",
                            **{f"{c} F1": round(cv[c]["f1"], 3) for c in ("N", "S", "V", "F")},
                            "macro-F1": round(cv["macro_f1_nsvf"], 3)})
        held = card.get("ludb_held_out")
        if held:  # delineation: per wave F1 and fiducial errors on held-out LUDB folds
            rows.append({"data": "LUDB held-out", **{f"{k} F1": round(v["f1"], 3) for k, v in held["waves"].items()},
                         **{f"{k} (ms)": f"{v['mean_ms']:+.1f} ± {v['sd_ms']:.1f}" for k, v in held["fiducials"].items()
                            if k in ("qrs_on", "qrs_off", "t_off")}})
        for key, method in (("held_out_renders", "ViT-DETR"), ("held_out_digitised", "digitise, then delineate"),
                            ("held_out_hybrid", "hybrid")):
            kp = card.get(key)
            if kp:  # image keypoints: held-out LUDB fold rendered clean and photographed
                for which in ("clean", "photo"):
                    rows.append({"data": f"LUDB fold {kp['fold']}, {which} renders", "method": method,
                                 **{f"{k} F1": round(v["f1"], 3) for k, v in kp[which]["keypoints"].items()}})
        pn = card.get("held_out_panels")
        if pn:  # lead panels: held-out LUDB fold, Mask R-CNN beside the digitiser's classical panels
            for which in ("clean", "photo_0.3", "photo_0.8"):
                for method in ("maskrcnn", "maskrcnn_layout", "classical"):
                    r = pn.get(which, {}).get(method)
                    if r:
                        rows.append({"data": f"LUDB fold {pn['fold']}, {which.replace('_', ' ')}", "method": method,
                                     "panel F1": round(r["f1"], 3), "precision": round(r["precision"], 3),
                                     "recall": round(r["recall"], 3), "mean IoU": round(r["mean_iou"], 3)})
        rep = card.get("report")
        if rep and "macro_auc" in rep:  # 12-lead diagnosis: cross-validated (LUDB) or fold-10 (PTB-XL) figures
            rows.append({"data": f"{card.get('db', '').upper()} held-out", "macro-AUC": round(rep["macro_auc"], 3),
                         **({"ECE after calibration": round(rep["ece_after"], 3)} if "ece_after" in rep else {})})
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.caption(f"sha256 `{card.get('sha256', '')[:16]}…` · {card.get('size_bytes', 0) / 1e6:.2f} MB")
        st.code(card.get("command", ""), language="bash")
        st.json(card, expanded=False)

st.subheader("Float vs quantised")
qpath = ROOT / "bench" / "results" / "quantize.json"
if qpath.exists():
    q = pd.DataFrame(json.loads(qpath.read_text()))
    q["size (MB)"] = (q["size_bytes"] / 1e6).round(3)
    q = q.rename(columns={"macro_f1_nsvf": "DS2 macro-F1, model alone (no rule)"})
    st.dataframe(q[["model", "variant", "size (MB)", "ms_batch1", "ms_batch256", "DS2 macro-F1, model alone (no rule)",
                    "agreement"]], hide_index=True, key="models_quant")
    st.caption("`python -m ecg_core bench quantize --json bench/results/quantize.json` (2 threads; latency is "
               "the median of repeated runs; macro-F1 over N/S/V/F on MIT-BIH DS2 detected beats, the networks "
               "alone; the cards above give both, with and without the premature-beat rule the Diagnosis page "
               "applies).")
else:
    st.info("No quantisation benchmark yet: run `python -m ecg_core bench quantize --json "
            "bench/results/quantize.json`.")
