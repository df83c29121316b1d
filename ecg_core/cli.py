"""``python -m ecg_core``: data, analyse, evaluate.

Every subcommand prints what it found and exits 0, or prints a project error's message and exits 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from pathlib import Path

from .errors import ECGError

__all__ = ["main", "build_parser"]


def _record_progress(k: int, n: int, name: str) -> None:
    """Progress of an evaluation over records, every 20th and the last (with -v)."""
    if k % 20 == 0 or k == n:
        print(f"  {k}/{n} records", flush=True)


def _write_json(path: str | Path, obj) -> None:
    """JSON written atomically (results and model cards: a crash never leaves half a file)."""
    from .atomic import atomic_write_text

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(obj, indent=2))


def _begin_training(args: argparse.Namespace) -> str:
    """Apply ``--threads`` and return the command line, recorded in the model card."""
    import shlex

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    return "python -m ecg_core " + " ".join(shlex.quote(_portable(a)) for a in sys.argv[1:])


def _portable(arg: str) -> str:
    """A command-line argument as a model card records it: an absolute path relative to the working folder
    when it lies under it, else as ``DIR/<its name>`` (no path of the training machine goes into a card)."""
    key, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    if not os.path.isabs(value):
        return arg
    rel = os.path.relpath(value)
    value = rel if not rel.startswith("..") else "DIR/" + os.path.basename(value.rstrip("/"))
    return key + eq + value


def _loop_options(args: argparse.Namespace) -> dict:
    """TrainConfig fields every ``train`` command takes from the shared options."""
    if args.resume and not args.run_dir:
        raise ECGError("--resume needs --run-dir: the folder whose last.pt the run goes on from")
    return dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience, seed=args.seed,
                time_limit_s=60.0 * args.time_limit_min, anneal_to_time=args.anneal_to_time, amp=args.amp)


def _writer() -> bool:
    """Whether this process writes a training command's outputs: always, except the ranks other than 0
    of a ``torchrun`` launch (every rank ends with the same model)."""
    import os

    return int(os.environ.get("RANK", "0")) == 0


def _cmd_data_download(args: argparse.Namespace) -> int:
    from .io.physionet import download

    target = download(args.name, records=args.records, dest=args.dest)
    print(f"{args.name}: files are in {target}")
    return 0


def _cmd_data_list(args: argparse.Namespace) -> int:
    from .io.records import data_dir, find_records

    root = data_dir()
    if root is None:
        print("ECG_DATA_DIR is not set or does not exist; the app still offers the demo record.")
        return 0
    for db, recs in find_records().items():
        print(f"{db}: {len(recs)} records ({', '.join(recs[:5])}{'...' if len(recs) > 5 else ''})")
    return 0


def _num(x: float, nd: int = 1) -> float | None:
    """A figure for JSON: rounded, ``None`` (null) when it could not be measured (NaN is not JSON)."""
    return round(float(x), nd) if math.isfinite(x) else None


def _cmd_analyse(args: argparse.Namespace) -> int:
    from .io import load_record, write_annotation, write_wfdb
    from .pipeline import FilterSettings, analyse

    rec = load_record(args.record if len(args.record) > 1 else args.record[0], fs=args.fs, units=args.units)
    res = analyse(rec, FilterSettings(args.low_hz, args.high_hz, args.notch_hz))
    hr = res.heart_rate
    summary = {
        "record": rec.name, "fs": rec.fs, "leads": list(rec.lead_names), "duration_s": round(rec.duration_s, 2),
        "n_beats": int(len(res.r_idx)), "rhythm_lead": res.rhythm_lead,
        "hr_mean_bpm": _num(hr.mean_bpm), "hr_min_bpm": _num(hr.min_bpm), "hr_max_bpm": _num(hr.max_bpm),
        "quality": {q.lead: {"label": q.label, "score": round(q.score, 3),
                             "stretches": [{"kind": x.kind, "start_s": round(x.start_s, 2),
                                            "stop_s": round(x.stop_s, 2)} for x in q.stretches]}
                    for q in res.quality},
        "not_analysable_s": [[round(a, 2), round(b, 2)] for a, b in res.not_analysable],
        "warnings": list(rec.warnings),
        "aux": [{"name": a.name, "unit": a.unit, "fs": a.fs} for a in rec.aux],
    }
    for w in rec.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"{rec.name}: {rec.n_leads} lead{'s' if rec.n_leads != 1 else ''}, {rec.duration_s:.1f} s at {rec.fs:g} Hz")
    print(f"beats: {len(res.r_idx)} (detected on {res.rhythm_lead} first)")
    if hr.mean_bpm == hr.mean_bpm:
        print(f"heart rate: mean {hr.mean_bpm:.0f} bpm, min {hr.min_bpm:.0f}, max {hr.max_bpm:.0f}")
    else:
        print("heart rate: not measurable (fewer than two beats in the parts that could be read)")
    print("quality: " + ", ".join(f"{q.lead} {q.label}" + (f" ({q.detail})" if q.detail else "")
                                  for q in res.quality))
    for a, b in res.not_analysable:
        print(f"not analysable {a:.1f}–{b:.1f} s: no lead holds usable ECG there")
    if rec.aux:
        print("other channels (kept, not analysed): "
              + ", ".join(f"{a.name} ({a.unit or 'no unit'}, {a.fs:g} Hz)" for a in rec.aux))
    if args.beats_csv:
        res.beats.to_csv(args.beats_csv, index=False)
        print(f"beats written to {args.beats_csv}")
    if args.wfdb_dir:
        header = write_wfdb(rec, args.wfdb_dir, annotations={})
        write_annotation(res.beat_annotation(), header.with_suffix(""), rec.fs, extension="qrs")
        print(f"record and beats (.qrs) written to {header.parent}")
    if args.json:
        _write_json(args.json, summary)
    return 0


def _cmd_evaluate_rpeaks(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_rpeaks

    res = evaluate_rpeaks(args.db, args.method, records=args.records, window_ms=args.window_ms,
                          annotation=args.annotation)
    print(f"{args.method} on {res['db']} ({res['n_records']} records): Se {100 * res['se']:.2f} %  "
          f"+P {100 * res['ppv']:.2f} %  TP {res['tp']}  FN {res['fn']}  FP {res['fp']}  {res['seconds']:.2f} s")
    if args.json:
        _write_json(args.json, res)
    return 0


def _cmd_train_beats(args: argparse.Namespace) -> int:
    from .train.beats import BeatSpec, save_beat_model, train_beat_model
    from .train.loop import TrainConfig

    command = _begin_training(args)
    spec = BeatSpec(model=args.model, model_kwargs=json.loads(args.model_kwargs), mode=args.mode,
                    leads=tuple(args.leads), rr_features=tuple(args.rr) if args.rr else None, loss=args.loss,
                    loss_kwargs=json.loads(args.loss_kwargs),
                    train=TrainConfig(**_loop_options(args), balanced_sampling=args.balanced_sampling),
                    augment=args.augment, label_fraction=args.label_fraction, init_encoder=args.init_encoder,
                    augment_ops=tuple(args.augment_ops or ()))

    def show(row: dict) -> None:
        print(f"  epoch {row['epoch']:2d}  loss {row['train_loss']:.4f}  val macro-F1 "
              f"{row['val_macro_f1_nsvf']:.3f}  ({row['seconds']:.0f} s)", flush=True)

    model, report = train_beat_model(spec, run_dir=args.run_dir, folds=args.folds, progress=show,
                                     resume=args.resume)
    cv = report["cv_pooled"]
    print("DS1 cross-validation (pooled held-out folds): " + "  ".join(
        f"{c} F1 {cv[c]['f1']:.3f}" for c in ("N", "S", "V", "F")) + f"  macro {cv['macro_f1_nsvf']:.3f}")
    if args.folds is not None:
        print("only some folds were trained: nothing saved (train all four to get a checkpoint)")
        return 0
    if not _writer():
        return 0
    card = save_beat_model(model, spec, args.out, {"cv_ds1": report, "command": command})
    print(f"saved {args.out} ({card['size_bytes'] / 1e6:.2f} MB) and its model card")
    return 0


def _cmd_train_delineation(args: argparse.Namespace) -> int:
    from .train.delineation import (
        DelineationSpec,
        assemble_folds,
        load_delineation_model,
        save_delineation_model,
        train_delineation,
    )
    from .train.loop import TrainConfig

    command = _begin_training(args)
    if args.assemble:  # folds trained apart (--folds k --run-dir D each), put together into one checkpoint
        members, spec, reports = assemble_folds(args.assemble)
        card = save_delineation_model(members, spec, args.out, {"folds": reports, "command": command})
        print(f"saved {args.out} ({card['size_bytes'] / 1e6:.2f} MB) and its model card")
        return 0
    spec = DelineationSpec(model=args.model, model_kwargs=json.loads(args.model_kwargs),
                           train=TrainConfig(**_loop_options(args)),
                           crop=args.crop, augment=not args.no_augment, invert=args.invert_leads,
                           augment_ops=tuple(args.augment_ops or ()))

    def show(row: dict) -> None:
        print(f"  epoch {row['epoch']:2d}  loss {row['train_loss']:.4f}  inner-val F1 P/QRS/T "
              f"{row['val_f1_P']:.3f}/{row['val_f1_QRS']:.3f}/{row['val_f1_T']:.3f}  ({row['seconds']:.0f} s)",
              flush=True)

    init = init_card = None
    if args.init:
        init_model, _, init_card = load_delineation_model(args.init)
        init = list(init_model.members)
    members, reports = train_delineation(spec, run_dir=args.run_dir, folds=args.folds, progress=show, init=init,
                                         resume=args.resume, command=command)
    if any(m is None for m in members):
        print("not every fold was trained: nothing saved (train all five to get a checkpoint)")
        return 0
    if not _writer():
        return 0
    card = {"folds": reports, "command": command}
    if init_card is not None:
        card["init_from"] = {"file": Path(args.init).name, "command": init_card.get("command"),
                             "init_from": init_card.get("init_from")}
    card = save_delineation_model(members, spec, args.out, card)
    print(f"saved {args.out} ({card['size_bytes'] / 1e6:.2f} MB) and its model card")
    return 0


def _cmd_train_multimodal(args: argparse.Namespace) -> int:
    from .train.loop import TrainConfig
    from .train.multimodal import (
        MultimodalSpec,
        save_multimodal,
        target_classes,
        train_multimodal_cv,
        train_multimodal_ptbxl,
    )

    command = _begin_training(args)
    spec = MultimodalSpec(modalities=tuple(args.modalities),
                          train=TrainConfig(**_loop_options(args), weight_decay=args.weight_decay),
                          augment_ops=tuple(args.augment_ops or ()), targets=args.targets)
    if args.model_kwargs:
        spec.model_kwargs = json.loads(args.model_kwargs)

    def show(row: dict) -> None:
        print(f"  epoch {row['epoch']:2d}  loss {row['train_loss']:.4f}  val macro-AUC {row['val_macro_auc']:.3f}"
              f"  ({row['seconds']:.0f} s)", flush=True)

    if args.db == "ptbxl":
        model, report = train_multimodal_ptbxl(spec, limit=args.limit, progress=show)
        print(f"PTB-XL fold 10: macro-AUC {report['macro_auc']:.3f}  " +
              "  ".join(f"{k} {v:.3f}" for k, v in report["per_class_auc"].items()))
        from .data.ptbxl import SUPERCLASSES

        members, classes = [model], list(SUPERCLASSES)
    else:
        members, report = train_multimodal_cv(spec, run_dir=args.run_dir, folds=args.folds, progress=show,
                                              resume=args.resume)
        classes = target_classes(spec.targets)
        print(f"LUDB 5-fold CV ({'+'.join(spec.modalities)}): macro-AUC {report['macro_auc']:.3f}  ECE "
              f"{report['ece_before']:.3f} -> {report['ece_after']:.3f} after temperature scaling  accuracy "
              f"{report['accuracy_all']:.3f} (all) / {report['accuracy_80pct_most_certain']:.3f} (80 % most certain)")
    if not _writer():
        return 0
    if args.json:
        _write_json(args.json, report)
    if args.folds is not None and args.db == "ludb":
        print("only some folds were trained: nothing saved (train all five to get a checkpoint)")
        return 0
    if args.out:
        card = save_multimodal(members, spec, classes, args.out, {"db": args.db, "report": report, "command": command})
        print(f"saved {args.out} ({card['size_bytes'] / 1e6:.2f} MB) and its model card")
    return 0


def _cmd_train_pretrain(args: argparse.Namespace) -> int:
    from .train.loop import TrainConfig
    from .train.ssl import SSLSpec, pretrain, save_encoder, ssl_segments

    command = _begin_training(args)
    spec = SSLSpec(model_kwargs=json.loads(args.model_kwargs), segment_s=args.segment_s, clusters=args.clusters,
                   dbs=tuple(args.db), train=TrainConfig(**_loop_options(args), weight_decay=1e-2))
    segments = ssl_segments(spec, limit_records=args.limit_records)
    print(f"{len(segments)} unlabelled segments of {spec.segment_s:g} s from {', '.join(spec.dbs)}", flush=True)

    def show(row: dict) -> None:
        print(f"  epoch {row['epoch']:2d}  loss {row['train_loss']:.4f}  val masked-frame accuracy "
              f"{row['val_masked_acc']:.3f}  ({row['seconds']:.0f} s)", flush=True)

    model, report = pretrain(spec, segments, run_dir=args.run_dir, progress=show, resume=args.resume)
    print(f"best epoch {report['best_epoch']}: masked-frame accuracy {report['val_masked_acc']:.3f} (the most "
          f"common cluster is {report['majority_cluster_share']:.3f} of frames)")
    if not _writer() or not args.out:
        return 0
    card = {"data": "MIT-BIH DS1 MLII and LUDB II, unlabelled (no DS2 signal)" if args.limit_records is None
            else f"first {args.limit_records} records only (a quick run)",
            "report": {k: v for k, v in report.items() if k != "history"}, "command": command}
    card = save_encoder(model, spec, args.out, card)
    print(f"saved {args.out} ({card['size_bytes'] / 1e6:.2f} MB) and its model card")
    return 0


def _keypoint_items(cache: str | None):
    """LUDB pages for the keypoint detector: from ``cache`` when it exists, else from ECG_DATA_DIR (and
    written to ``cache`` when one is named, for a machine without the LUDB files)."""
    from .data.beats import default_cache_dir
    from .data.ludb import ludb_records
    from .train.keypoints import load_page_cache, page_cache

    if cache and Path(cache).exists():
        return load_page_cache(cache)
    path = page_cache(ludb_records(), cache or default_cache_dir() / "ludb_pages.npz")
    print(f"page cache written: {path}")
    return load_page_cache(path)


def _cmd_train_keypoints(args: argparse.Namespace) -> int:
    from .train.keypoints import KeypointSpec, save_keypoint_model, train_keypoints
    from .train.loop import TrainConfig

    command = _begin_training(args)
    items = _keypoint_items(args.cache)
    spec = KeypointSpec(model_kwargs=json.loads(args.model_kwargs), img_size=tuple(args.img_size),
                        repeats=args.repeats, pool=args.pool, dn=args.dn, train_only=args.train_only,
                        train=TrainConfig(**_loop_options(args), grad_clip=0.1, warmup_epochs=1))

    def show(row: dict) -> None:
        print(f"  epoch {row['epoch']}: train loss {row['train_loss']:.3f}, inner-val F1 P/R/T "
              f"{row['val_f1_P']:.3f}/{row['val_f1_R']:.3f}/{row['val_f1_T']:.3f} ({row['seconds']:.0f} s)", flush=True)

    init = init_card = None
    if args.init:
        from .predict.keypoints import load_keypoint_model

        init, init_spec, init_card = load_keypoint_model(args.init)
        if init_card.get("held_fold") != args.held_fold:
            raise ECGError(f"{args.init} held out fold {init_card.get('held_fold')}, not {args.held_fold}")
        spec.model_kwargs = {**init_spec.model_kwargs, **spec.model_kwargs}  # e.g. {"refine": true} added
    model, report = train_keypoints(spec, items, held_fold=args.held_fold, run_dir=args.run_dir, workers=args.workers,
                                    progress=show, resume=args.resume, init=init)
    print(f"best epoch {report['best_epoch']}: inner-val F1 P/R/T {report['inner_val']['f1_P']:.3f}/"
          f"{report['inner_val']['f1_R']:.3f}/{report['inner_val']['f1_T']:.3f}")
    dec = report["decoding"]
    print(f"decoding chosen on the inner-validation records: score threshold {dec['score_threshold']}, NMS IoU "
          f"{dec['nms_iou']} (F1 P/R/T {dec['inner_val']['f1_P']:.3f}/{dec['inner_val']['f1_R']:.3f}/"
          f"{dec['inner_val']['f1_T']:.3f})")
    if not _writer():
        return 0
    if args.json:
        _write_json(args.json, report)
    if args.out:
        card = {"held_fold": args.held_fold, "report": {k: v for k, v in report.items() if k != "history"},
                "command": command}
        if init_card is not None:
            card["init_from"] = {"file": Path(args.init).name, "sha256": init_card.get("sha256"),
                                 "command": init_card.get("command"), "report": init_card.get("report"),
                                 "init_from": init_card.get("init_from")}
        card = save_keypoint_model(model, spec, args.out, card)
        print(f"saved {args.out} ({card['size_bytes'] / 1e6:.2f} MB) and its model card")
    return 0


def _held_out_pages(args: argparse.Namespace, card: dict) -> tuple[dict, list[str]]:
    """The page cache's records and those to score: ``--records``, else the card's held-out LUDB fold."""
    from .data.ludb import ludb_folds

    items = _keypoint_items(args.cache)
    records = args.records or list(ludb_folds()[card["held_fold"]])
    missing = [r for r in records if r not in items]
    if missing:
        raise ECGError(f"LUDB records not in the page cache: {', '.join(missing[:10])}")
    return items, records


def _cmd_evaluate_keypoints(args: argparse.Namespace) -> int:
    from .predict.keypoints import load_keypoint_model
    from .train.keypoints import evaluate_keypoints

    model, spec, card = load_keypoint_model(args.weights)
    items, records = _held_out_pages(args, card)
    out = {"weights": Path(args.weights).name, "sha256": card["sha256"], "held_fold": card["held_fold"],
           "method": args.method}
    delineators = None
    if args.method != "detr":  # each record delineated by the delineation fold model that never saw it
        from .predict.delineation import default_weights, held_out_delineators, load_delineation

        delineators = held_out_delineators(records)
        out["delineator"] = {"weights": default_weights().name, "sha256": load_delineation()[2]["sha256"]}
        if args.method == "digitised":
            model = None
            out.pop("weights"), out.pop("sha256")
    for label, photo in (("clean", 0.0), ("photo", args.photo)):
        res = evaluate_keypoints(model, spec, items, records, photo=photo, delineators=delineators)
        out[label] = res
        how = f", photo strength {photo}" if photo else ""
        print(f"{label} renders ({res['n_records']} held-out LUDB records{how}):")
        for k, v in res["keypoints"].items():
            print(f"  {k}: precision {v['precision']:.3f}  recall {v['recall']:.3f}  F1 {v['f1']:.3f}  "
                  f"mean error {v['mean_abs_error_ms']:.1f} ms")
    if args.json:
        _write_json(args.json, out)
    return 0


def _cmd_evaluate_panels(args: argparse.Namespace) -> int:
    from .predict.panels import load_panel_model
    from .train.panels import evaluate_panels

    model, spec, card = load_panel_model(args.weights)
    items, records = _held_out_pages(args, card)
    out = {"weights": Path(args.weights).name, "sha256": card["sha256"], "held_fold": card["held_fold"]}
    for photo in [0.0, *args.photo]:
        label = ("clean" if photo == 0 else f"photo_{photo:g}") + (f"_{args.dpi:g}dpi" if args.dpi != 100 else "")
        res = evaluate_panels(model, spec, items, records, photo=photo, dpi=args.dpi)
        out[label] = res
        print(f"{label} renders ({res['n_records']} held-out LUDB records): panels found (IoU >= 0.5, same lead)")
        for name in ("maskrcnn", "maskrcnn_layout", "classical"):
            r = res[name]
            extra = f"  trace-mask IoU {r['trace_mask_iou']:.3f}" if "trace_mask_iou" in r else ""
            print(f"  {name:15s} precision {r['precision']:.3f}  recall {r['recall']:.3f}  F1 {r['f1']:.3f}  "
                  f"mean IoU {r['mean_iou']:.3f}  pages all right {r['pages_all_correct']:.3f}{extra}")
    if args.json:
        _write_json(args.json, out)
    return 0


def _cmd_train_panels(args: argparse.Namespace) -> int:
    from .train.loop import TrainConfig
    from .train.panels import PanelSpec, save_panel_model, train_panels

    command = _begin_training(args)
    items = _keypoint_items(args.cache)
    spec = PanelSpec(model_kwargs=json.loads(args.model_kwargs), img_size=tuple(args.img_size), repeats=args.repeats,
                     train=TrainConfig(**_loop_options(args), grad_clip=5.0, weight_decay=1e-4))

    def show(row: dict) -> None:
        print(f"  epoch {row['epoch']}: train loss {row['train_loss']:.3f}, inner-val panel F1 {row['val_f1']:.3f} "
              f"(mean IoU {row['val_mean_iou']:.3f}) ({row['seconds']:.0f} s)", flush=True)

    model, report = train_panels(spec, items, held_fold=args.held_fold, run_dir=args.run_dir, workers=args.workers,
                                 progress=show, resume=args.resume)
    print(f"best epoch {report['best_epoch']}: inner-val panel F1 {report['inner_val']['f1']:.3f}")
    if not _writer():
        return 0
    if args.json:
        _write_json(args.json, report)
    if args.out:
        card = {"held_fold": args.held_fold,
                "report": {k: v for k, v in report.items() if k != "history"}, "command": command}
        card = save_panel_model(model, spec, args.out, card)
        print(f"saved {args.out} ({card['size_bytes'] / 1e6:.2f} MB) and its model card")
    return 0


def _cmd_evaluate_digitize(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_digitization

    res = evaluate_digitization(args.records, dpi=args.dpi, photo=args.photo)
    how = f", photographed at strength {args.photo}" if args.photo else ""
    print(f"digitised LUDB renders ({res['n_records']} records, {args.dpi:g} dpi{how}; "
          f"{res['seconds_per_page']:.2f} s per page): SNR mean {res['snr_db_mean']:.1f} dB, median "
          f"{res['snr_db_median']:.1f} dB; unreadable: {len(res['failed'])}; grid scale error "
          f"{res['scale_error_pct']['mean']:+.3f} % (max {res['scale_error_pct']['max_abs']:.3f} %)")
    print("  per lead: " + ", ".join(f"{k} {v:.1f}" for k, v in res["snr_db_per_lead"].items()))
    if args.json:
        _write_json(args.json, res)
    return 0


def _cmd_evaluate_beats(args: argparse.Namespace) -> int:
    from .predict.beats import load_beat_ensemble
    from .train.beats import evaluate_beat_model

    model, spec, card = load_beat_ensemble(args.weights)
    res = evaluate_beat_model(model, spec, args.split, records=args.records, ann_dir=args.ann_dir, s_rule=args.s_rule)
    res["weights"] = Path(args.weights).name
    res["sha256"] = card["sha256"]
    print(f"{Path(args.weights).name} on {args.split} ({res['n_records']} records, detected beats, gross):")
    for c in ("N", "S", "V", "F", "Q"):
        print(f"  {c}: Se {res[c]['se']:.3f}  +P {res[c]['ppv']:.3f}  F1 {res[c]['f1']:.3f}  (n={res[c]['n']})")
    print(f"  accuracy {res['accuracy']:.4f}  macro-F1 N/S/V/F {res['macro_f1_nsvf']:.3f}  "
          f"(EC57 variant: {res['ec57']['macro_f1_nsvf']:.3f})")
    if "without_s_rule" in res:
        plain = res["without_s_rule"]
        print(f"  without the premature-beat rule: S F1 {plain['S']['f1']:.3f}  macro-F1 N/S/V/F "
              f"{plain['macro_f1_nsvf']:.3f}")
    if args.json:
        _write_json(args.json, res)
    if args.update_card and args.records is None:
        card_path = Path(args.weights).with_suffix(".json")
        card = json.loads(card_path.read_text())
        key = args.split.lower() + ("_s_rule" if args.s_rule else "")
        card[key] = {k: res[k] for k in ("N", "S", "V", "F", "Q", "accuracy", "macro_f1_nsvf")}
        card[key]["ec57_macro_f1_nsvf"] = res["ec57"]["macro_f1_nsvf"]
        if args.s_rule:
            card[key]["s_rule"] = res["s_rule"]
        _write_json(card_path, card)
    return 0


#: version of the JSON ``read`` writes (docs/results.md#interpretation-ludb describes its fields)
READ_SCHEMA = "ecg_core.read/1"


def _read_json(r) -> dict:
    """The whole read as JSON (schema :data:`READ_SCHEMA`)."""
    m, f = r.measurements, r.facts
    out = {"schema": READ_SCHEMA, "record": r.record.name, "fs": r.record.fs, "leads": list(r.record.lead_names),
           "duration_s": round(r.record.duration_s, 2), "sex": f.sex, "age": f.age,
           "statements": [{"code": s.code, "text": s.text, "category": s.category, "evidence": s.evidence,
                           "values": {k: (_num(v) if isinstance(v, float) else v) for k, v in s.values.items()},
                           "leads": list(s.leads), "source": s.source, "confidence": s.confidence,
                           "reference": s.reference} for s in r.interpretation.statements],
           "measurements": {row["measurement"]: row["value"] for row in m.table()},
           "rhythm": {"rr_irregularity": _num(f.rr_irregularity), "p_fraction": _num(f.p_fraction),
                      "rr_range_ms": _num(f.rr_range_ms), "n_beats": f.n_beats},
           "leads_measured": {name: {k: (_num(v) if isinstance(v, float) else v) for k, v in lm.__dict__.items()
                                     if k not in ("lead", "extra")} for name, lm in f.leads.items()},
           "quality": {q.lead: q.label for q in r.quality},
           "beat_classes": f.beat_counts}
    return out


def _cmd_read(args: argparse.Namespace) -> int:
    from .io import load_record
    from .pipeline import read
    from .predict.beats import load_beat_model

    rec = load_record(args.record if len(args.record) > 1 else args.record[0], fs=args.fs, units=args.units)
    beat_model = None
    if not args.no_beats:
        try:
            beat_model = load_beat_model("diagnostic")[:2]
        except (FileNotFoundError, ECGError) as exc:
            print(f"warning: no beat classes ({exc})", file=sys.stderr)
    statement_model = None
    if not args.no_learned:
        from .predict.diagnosis import load_multimodal, statement_weights

        try:
            statement_model = load_multimodal(statement_weights())
        except (FileNotFoundError, ECGError) as exc:
            print(f"warning: no learned statements ({exc})", file=sys.stderr)
    r = read(rec, beat_model=beat_model, statement_model=statement_model, formula=args.qtc)
    f = r.facts
    print(f"{rec.name}: {rec.n_leads} leads, {rec.duration_s:.1f} s at {rec.fs:g} Hz"
          + (f", {f.sex}" if f.sex else "") + (f", {f.age:.0f} y" if f.age is not None else ""))
    print("Statements (unconfirmed: requires physician review):")
    for s in r.interpretation.statements:
        print(f"  {s.text}" + (f" [{', '.join(s.leads)}]" if s.leads else "") + f"  ({s.source})")
        print(f"      {s.evidence}")
    print("Measurements: " + ", ".join(f"{row['measurement']} {row['value'] if row['value'] is not None else '-'}"
                                       f"{' ' + row['unit'] if row['value'] is not None else ''}"
                                       for row in r.measurements.table(args.qtc)))
    if f.beat_counts is not None:
        print("Beat classes: " + ", ".join(f"{c} {n}" for c, n in f.beat_counts.items() if n))
    bad = [q for q in r.quality if q.label != "good"]
    print("Lead quality: " + (", ".join(f"{q.lead} {q.label}" for q in bad) if bad else "all good"))
    if args.json:
        _write_json(args.json, _read_json(r))
    if args.pdf or args.html:
        from .atomic import atomic_write_bytes, atomic_write_text
        from .report import build_report, report_html, report_pdf

        rep = build_report(rec, measurements=r.measurements, interpretation=r.interpretation, qtc_formula=args.qtc)
        if args.pdf:
            atomic_write_bytes(args.pdf, report_pdf(rep))
        if args.html:
            atomic_write_text(args.html, report_html(rep))
    return 0


def _cmd_evaluate_statements(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_statements

    res = evaluate_statements(args.db, records=args.records, beats=args.beats, weights=args.weights,
                              learned=args.learned or False, folds=tuple(args.folds),
                              progress=_record_progress if args.verbose else None)
    print(f"statements on {args.db} ({res['n_records']} records; {res['seconds_per_record']:.2f} s per record):")
    print(f"  {'code':6s} {'n':>4s} {'Se':>6s} {'PPV':>6s} {'Sp':>6s} {'F1':>6s}  F1 95 % CI")
    for code, v in sorted(res["statements"].items(), key=lambda t: -t[1]["n"]):
        ci = v["f1_ci95"]
        print(f"  {code:6s} {v['n']:4d} {v['se']:6.2f} {v['ppv']:6.2f} {v['sp']:6.2f} {v['f1']:6.2f}  "
              f"{ci[0]:.2f}-{ci[1]:.2f}")
    for code, a in res.get("learned_auc", {}).items():
        crit, mod = (res["by_source"][k].get(code, {}).get("f1", float("nan")) for k in ("criteria", "model"))
        print(f"  learned {code:8s} held-out AUC {a['auc']:.3f} (Se {a['se_at_sp90']:.2f} at Sp >= 0.90); "
              f"F1 criteria {crit:.2f}, model {mod:.2f}, "
              f"fused {res['statements'].get(code, {}).get('f1', float('nan')):.2f}")
    print(f"  whole read agrees (rhythm, axis, conduction): {res['whole_read_agrees']:.3f}; "
          f"axis normal/left/right agreement: {res['axis_agreement']:.3f}")
    if args.json:
        _write_json(args.json, res)
    return 0


def _cmd_evaluate_delineation(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_delineation

    res = evaluate_delineation(args.method, records=args.records, weights=args.weights, perturb=args.perturb,
                               progress=_record_progress if args.verbose else None)
    print(f"{args.method} on LUDB ({res['n_records']} records, held-out folds"
          f"{', ' + args.perturb if args.perturb else ''}; {res['seconds_per_record']:.3f} s per record):")
    for k, v in res["waves"].items():
        print(f"  {k:3s} Se {v['se']:.4f}  +P {v['ppv']:.4f}  F1 {v['f1']:.4f}")
    for k, v in res["fiducials"].items():
        tol = f"  (CSE SD <= {v['cse_sd_ms']}: {'yes' if v['within_cse'] else 'no'})" if "cse_sd_ms" in v else ""
        print(f"  {k:8s} {v['mean_ms']:+7.1f} +/- {v['sd_ms']:5.1f} ms{tol}")
    print("  global fiducials (one per beat from all leads, against the same rule on the manual marks):")
    for k, v in res["global_fiducials"].items():
        if not v["n"]:
            print(f"  {k:8s} no beats to score (none with this wave in both our marks and the manual ones)")
            continue
        tol = f"  (CSE SD <= {v['cse_sd_ms']}: {'yes' if v['within_cse'] else 'no'})" if "cse_sd_ms" in v else ""
        ci = v.get("sd_ci95_ms") or [float("nan")] * 2
        print(f"  {k:8s} {v['mean_ms']:+7.1f} +/- {v['sd_ms']:5.1f} ms  (SD 95% CI {ci[0]:.1f}-{ci[1]:.1f}; "
              f"n {v['n']}){tol}")
    for k, v in res["intervals"].items():
        tol = (f"  (IEC |mean| <= {v['iec_mean_ms']:.0f}, SD <= {v['iec_sd_ms']:.0f}: "
               f"{'yes' if v['within_iec'] else 'no'})") if "iec_sd_ms" in v else ""
        print(f"  {k.upper():4s} interval {v['mean_ms']:+7.1f} +/- {v['sd_ms']:5.1f} ms{tol}")
    if args.json:
        _write_json(args.json, res)
    if args.update_card and args.method == "unet" and args.records is None:
        from .predict.delineation import default_weights

        card_path = Path(args.weights or default_weights()).with_suffix(".json")
        card = json.loads(card_path.read_text())
        card["ludb_held_out" + (f"_{args.perturb}" if args.perturb else "")] = {
            k: res[k] for k in ("waves", "fiducials", "global_fiducials", "intervals", "n_records")}
        _write_json(card_path, card)
    return 0


def _cmd_bench_quantize(args: argparse.Namespace) -> int:
    from .predict import weights_dir
    from .quantize.bench import bench_quantize

    weights = args.weights or sorted(str(p) for p in weights_dir().glob("beat_*.pt"))
    if not weights:
        print("error: no beat weights found (weights/beat_*.pt); train one with `train beats`", file=sys.stderr)
        return 2
    rows = bench_quantize(weights, repeats=args.repeats)
    print(f"{'model':28s} {'variant':22s} {'size MB':>8s} {'ms b1':>8s} {'ms b256':>9s} {'macro-F1':>9s} {'agree':>7s}")
    for r in rows:
        print(f"{r['model']:28s} {r['variant']:22s} {r['size_bytes'] / 1e6:8.3f} {r['ms_batch1']:8.2f} "
              f"{r['ms_batch256']:9.1f} {r['macro_f1_nsvf']:9.4f} {r['agreement']:7.4f}")
    if args.json:
        _write_json(args.json, rows)
    return 0


def _training_options(p: argparse.ArgumentParser, task: str) -> None:
    """The options every ``train`` command shares, their defaults the task's spec's
    (:data:`ecg_core.recipes.LOOP_DEFAULTS`, the one place they are written)."""
    from .recipes import loop_defaults

    d = loop_defaults(task)
    p.add_argument("--epochs", type=int, default=d["epochs"])
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--lr", type=float, default=d["lr"])
    p.add_argument("--patience", type=int, default=d["patience"])
    amp = d["amp"]
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--run-dir", help="per-fold metrics.jsonl, progress.json and last.pt here")
    p.add_argument("--resume", action="store_true",
                   help="go on from the last finished epoch in RUN_DIR (of a stopped or killed run)")
    p.add_argument("--time-limit-min", type=float, default=0.0,
                   help="stop training (each fold) after the epoch that passes this many minutes (0: none)")
    p.add_argument("--anneal-to-time", action="store_true",
                   help="with --time-limit-min: the cosine schedule reaches its end at the time limit if that "
                        "comes before the last epoch (not bit-for-bit reproducible)")
    p.add_argument("--amp", default=amp, choices=["auto", "bf16", "off"],
                   help="mixed precision: bfloat16 autocast on CUDA (auto), on any device (bf16), or none")


def _augment_ops_option(p: argparse.ArgumentParser, what: str) -> None:
    from .data.augment import AUGMENTATIONS

    p.add_argument("--augment-ops", nargs="*", choices=sorted(AUGMENTATIONS), metavar="OP",
                   help=f"these augmentations, each with probability 0.5 ({what}): " + ", ".join(sorted(AUGMENTATIONS)))


def build_parser() -> argparse.ArgumentParser:
    from .evaluate import PERTURBATIONS
    from .predict import weights_path
    from .signal import RPEAK_METHODS
    from .signal.delineation import DELINEATION_METHODS

    p = argparse.ArgumentParser(prog="python -m ecg_core", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = p.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="databases: download or list").add_subparsers(dest="data_cmd", required=True)
    dl = data.add_parser("download", help="download a PhysioNet database into ECG_DATA_DIR")
    dl.add_argument("name", help="mitdb, ludb, ptbxl, qtdb, ...")
    dl.add_argument("--records", nargs="*", help="only these records")
    dl.add_argument("--dest", help="folder (default: ECG_DATA_DIR/NAME or ~/.cache/ecg_core/data/NAME)")
    dl.set_defaults(func=_cmd_data_download)
    ls = data.add_parser("list", help="databases and records found under ECG_DATA_DIR")
    ls.set_defaults(func=_cmd_data_list)

    an = sub.add_parser("analyse", help="read a record: heart rate, beats, quality")
    an.add_argument("record", nargs="+", help="file(s): .hea [.dat .atr], .csv, .edf, .npy/.npz, .zip")
    an.add_argument("--fs", type=float, help="sampling rate (Hz) when the file has none")
    an.add_argument("--units", help="units of CSV/NumPy values: mV (default), uV, V")
    an.add_argument("--low-hz", type=float, default=0.5)
    an.add_argument("--high-hz", type=float, default=40.0)
    an.add_argument("--notch-hz", type=float, default=None)
    an.add_argument("--beats-csv", help="write the beat table here")
    an.add_argument("--wfdb-dir", help="write the record and its detected beats (.qrs) as WFDB here")
    an.add_argument("--json", help="write a summary here")
    an.set_defaults(func=_cmd_analyse)

    rd = sub.add_parser("read", help="the whole read of one record: statements with evidence, measurements, "
                                     "beat classes, quality")
    rd.add_argument("record", nargs="+", help="file(s): .hea [.dat], .csv, .edf, .npy/.npz, .zip")
    rd.add_argument("--fs", type=float, help="sampling rate (Hz) when the file has none")
    rd.add_argument("--units", help="units of CSV/NumPy values: mV (default), uV, V")
    rd.add_argument("--qtc", default="Bazett", help="QTc formula (Bazett, Fridericia, Framingham, Hodges)")
    rd.add_argument("--no-beats", action="store_true", help="skip beat classes (and the ectopy statements)")
    rd.add_argument("--no-learned", action="store_true",
                    help="criteria only: skip the learned statements (LVH, atrial enlargement, ischaemia by wall...)")
    rd.add_argument("--json", help="write the read here (schema ecg_core.read/1)")
    rd.add_argument("--pdf", help="write the report (printout header, tracing, evidence) as PDF here")
    rd.add_argument("--html", help="write the report as self-contained HTML here")
    rd.set_defaults(func=_cmd_read)

    ev = sub.add_parser("evaluate", help="evaluation protocols").add_subparsers(dest="eval_cmd", required=True)
    rp = ev.add_parser("rpeaks", help="gross R-peak Se/+P over a database (150 ms window)")
    rp.add_argument("--db", default="mitdb")
    rp.add_argument("--method", default="ecgcore", choices=sorted(RPEAK_METHODS))
    rp.add_argument("--records", nargs="*", help="only these records")
    rp.add_argument("--window-ms", type=float, default=150.0)
    rp.add_argument("--annotation", help="reference annotation (default: atr; ii for LUDB)")
    rp.add_argument("--json", help="write the result here")
    rp.set_defaults(func=_cmd_evaluate_rpeaks)
    eb = ev.add_parser("beats", help="beat classes on MIT-BIH detected beats (per-class Se/+P/F1, gross and EC57)")
    eb.add_argument("--weights", required=True)
    eb.add_argument("--split", default="DS2", choices=["DS1", "DS2"])
    eb.add_argument("--records", nargs="*", help="only these records (a quick check; the card is not updated)")
    eb.add_argument("--json", help="write the result here")
    eb.add_argument("--ann-dir", help="write one WFDB annotation (.cls) per record here, for PhysioNet's bxb")
    eb.add_argument("--update-card", action="store_true", help="store the split's figures in the model card")
    eb.add_argument("--s-rule", action="store_true",
                    help="beats the model calls N become S where the premature-beat rule fires")
    eb.set_defaults(func=_cmd_evaluate_beats)

    ed = ev.add_parser("delineation", help="P/QRS/T delineation on LUDB held-out folds (per wave F1, errors in ms)")
    ed.add_argument("--db", default="ludb", choices=["ludb"])
    ed.add_argument("--method", default="unet", choices=list(DELINEATION_METHODS))
    ed.add_argument("--weights", help="learned model (default: weights/delineation_unet.pt)")
    ed.add_argument("--records", nargs="*", help="only these records")
    ed.add_argument("--perturb", choices=sorted(PERTURBATIONS), help="robustness: change every record first")
    ed.add_argument("--json", help="write the result here")
    ed.add_argument("--update-card", action="store_true", help="store the figures in the model card")
    ed.set_defaults(func=_cmd_evaluate_delineation)

    es = ev.add_parser("statements", help="interpretive statements against the cardiologists' conclusions "
                                          "(LUDB; PTB-XL where you have it)")
    es.add_argument("--db", default="ludb", choices=["ludb", "ptbxl"])
    es.add_argument("--folds", type=int, nargs="*", default=[10], help="PTB-XL strat_fold(s) to read (default 10)")
    es.add_argument("--weights", help="learned delineator (default: the shipped one; each record by its fold model)")
    es.add_argument("--records", nargs="*", help="only these records")
    es.add_argument("--beats", action="store_true", help="classify beats too (the ectopy statements)")
    es.add_argument("--learned", nargs="?", const=True, metavar="WEIGHTS",
                    help="fuse the learned statements (default weights/statements_ludb.pt; on LUDB each record by "
                         "the fold model that held it out)")
    es.add_argument("--json", help="write the result here")
    es.set_defaults(func=_cmd_evaluate_statements)

    ek = ev.add_parser("keypoints", help="image keypoints (P, Q, R, S, T) on renders of held-out LUDB records")
    ek.add_argument("--weights", default=str(weights_path("keypoints_detr.pt")))
    ek.add_argument("--records", nargs="*", help="default: the held-out fold named in the model card")
    ek.add_argument("--photo", type=float, default=0.8, help="strength of the simulated photo (second table)")
    ek.add_argument("--method", choices=("detr", "digitised", "hybrid"), default="detr",
                    help="the ViT-DETR alone; digitise, then delineate (learned delineator, fold models); or "
                         "the ViT-DETR's keypoints placed on the delineated trace (hybrid)")
    ek.add_argument("--cache", help="LUDB page cache (.npz), else ECG_DATA_DIR")
    ek.add_argument("--json", help="write the result here")
    ek.set_defaults(func=_cmd_evaluate_keypoints)

    ep = ev.add_parser("panels", help="lead panels on renders of held-out LUDB records: Mask R-CNN vs the digitiser")
    ep.add_argument("--weights", default=str(weights_path("panels_maskrcnn.pt")))
    ep.add_argument("--records", nargs="*", help="default: the held-out fold named in the model card")
    ep.add_argument("--photo", type=float, nargs="*", default=[0.3, 0.8],
                    help="strengths of the simulated photos (a table each, beside the clean renders)")
    ep.add_argument("--dpi", type=float, default=100.0, help="print resolution of the pages (then shrunk to the "
                                                                "model's input size)")
    ep.add_argument("--cache", help="LUDB page cache (.npz), else ECG_DATA_DIR")
    ep.add_argument("--json", help="write the result here")
    ep.set_defaults(func=_cmd_evaluate_panels)

    eg = ev.add_parser("digitize", help="SNR of ECGs printed (3x4 + rhythm strip) and read back from the image")
    eg.add_argument("--records", nargs="*", help="LUDB records (default: all 200)")
    eg.add_argument("--dpi", type=float, default=200.0)
    eg.add_argument("--photo", type=float, default=0.0, help="simulated photo strength (0: a clean render)")
    eg.add_argument("--json", help="write the result here")
    eg.set_defaults(func=_cmd_evaluate_digitize)

    tr = sub.add_parser("train", help="train a model").add_subparsers(dest="train_cmd", required=True)
    tb = tr.add_parser("beats", help="beat classifier on MIT-BIH DS1 (patient-wise folds; DS2 untouched)")
    tb.add_argument("--model", default="beat_template_resnet")
    tb.add_argument("--model-kwargs", default="{}", help="JSON")
    tb.add_argument("--mode", default="diagnostic", choices=["diagnostic", "realtime"])
    tb.add_argument("--leads", type=int, nargs="+", default=[0])
    tb.add_argument("--rr", nargs="*", help="RR feature names (default: ecg_core.data.beats.DEFAULT_RR[mode])")
    tb.add_argument("--loss", default="focal")
    tb.add_argument("--loss-kwargs", default='{"gamma": 1.0}', help="JSON")
    _training_options(tb, "beats")
    tb.add_argument("--balanced-sampling", action="store_true")
    tb.add_argument("--augment", action="store_true", help="jitter R position, add noise, vary RR while training")
    tb.add_argument("--folds", type=int, nargs="*", help="only these DS1 folds (0-3; a quick run, nothing saved)")
    _augment_ops_option(tb, "on each training beat window")
    tb.add_argument("--label-fraction", type=float, default=1.0,
                    help="train on this share of the training beats (a low-label experiment; seeded)")
    tb.add_argument("--init-encoder", help="start the model's encoder from this pre-trained hubert_ecg checkpoint "
                                           "(train pretrain); the model must have one (beat_hubert)")
    tb.add_argument("--out", required=True, help="weights path, e.g. weights/beat_diagnostic.pt")
    tb.set_defaults(func=_cmd_train_beats)

    td = tr.add_parser("delineation", help="wave segmentation on LUDB (five patient-wise folds)")
    td.add_argument("--model", default="delineation_unet")
    td.add_argument("--model-kwargs", default="{}", help="JSON")
    _training_options(td, "delineation")
    td.add_argument("--crop", type=int, default=3072, help="training crop in samples at 500 Hz")
    td.add_argument("--no-augment", action="store_true")
    td.add_argument("--invert-leads", action="store_true", help="also train on upside-down leads")
    _augment_ops_option(td, "instead of the default set")
    td.add_argument("--init", help="continue from the fold models of this checkpoint (same architecture)")
    td.add_argument("--folds", type=int, nargs="*", help="only these folds (0-4; no checkpoint written; with "
                                                          "--run-dir each fold is kept there for --assemble)")
    td.add_argument("--assemble", nargs="+", metavar="RUN_DIR",
                    help="train nothing: put the fold models kept in RUN_DIR/fold0..4 (each trained with --folds k "
                         "--run-dir RUN_DIR, e.g. in parallel) into one checkpoint at --out")
    td.add_argument("--out", default="weights/delineation_unet.pt")
    td.set_defaults(func=_cmd_train_delineation)

    tm = tr.add_parser("multimodal", help="12-lead diagnosis: LUDB 5-fold CV or PTB-XL folds 1-8/9/10")
    tm.add_argument("--db", default="ludb", choices=["ludb", "ptbxl"])
    tm.add_argument("--modalities", nargs="+", default=["signal", "image", "meta"],
                    choices=["signal", "image", "meta"])
    tm.add_argument("--targets", default="groups", choices=["groups", "statements"],
                    help="LUDB: the six diagnosis groups, or the learned statements (LVH, atrial enlargement, "
                         "ischaemia/scar by wall, ST-T, early repolarisation) read at true scale")
    tm.add_argument("--model-kwargs", help="JSON (default: dim 96, ViT depth 4)")
    _training_options(tm, "multimodal")
    tm.add_argument("--weight-decay", type=float, default=1e-2)
    tm.add_argument("--limit", type=int, help="PTB-XL: only the first N records of each split (a quick run)")
    tm.add_argument("--folds", type=int, nargs="*", help="LUDB: only these folds (0-4; a quick run, nothing saved)")
    _augment_ops_option(tm, "on the training signals; the image modality stays the printed original")
    tm.add_argument("--json", help="write the report here")
    tm.add_argument("--out", help="weights path, e.g. weights/multimodal_ludb.pt")
    tm.set_defaults(func=_cmd_train_multimodal)

    tk = tr.add_parser("keypoints", help="ViT-DETR beat keypoints on rendered LUDB pages (one fold held out)")
    tk.add_argument("--model-kwargs", default="{}", help="JSON (ecg_core.models.detr.ViTDETR arguments)")
    _training_options(tk, "keypoints")
    tk.add_argument("--img-size", type=int, nargs=2, default=[512, 1024], metavar=("H", "W"))
    tk.add_argument("--repeats", type=int, default=8, help="rendered variants of each record per epoch")
    tk.add_argument("--pool", type=int, default=0,
                    help="render this many variants of each record once and train on them (keeps a GPU busy)")
    tk.add_argument("--dn", action="store_true", help="denoising queries while training (DN-DETR)")
    tk.add_argument("--train-only", default="", metavar="MODULE",
                    help="train this submodule alone (e.g. refine: the keypoint refiner), the rest frozen")
    tk.add_argument("--held-fold", type=int, default=0)
    tk.add_argument("--workers", type=int, default=0, help="rendering processes")
    tk.add_argument("--init", help="continue from this keypoint model (same architecture and held-out fold)")
    tk.add_argument("--cache", help="LUDB page cache (.npz): read if it exists, else written from ECG_DATA_DIR")
    tk.add_argument("--json", help="write the training report here")
    tk.add_argument("--out", help="weights path, e.g. weights/keypoints_detr.pt")
    tk.set_defaults(func=_cmd_train_keypoints)

    tl = tr.add_parser("panels", help="Mask R-CNN lead panels (box, lead, trace mask) on rendered LUDB pages")
    tl.add_argument("--model-kwargs", default="{}", help="JSON (ecg_core.models.panels.panel_maskrcnn arguments)")
    # Mask R-CNN trains in float32 unless bf16 is asked for (untried under autocast)
    _training_options(tl, "panels")
    tl.add_argument("--img-size", type=int, nargs=2, default=[512, 1024], metavar=("H", "W"))
    tl.add_argument("--repeats", type=int, default=4, help="rendered variants of each record per epoch")
    tl.add_argument("--held-fold", type=int, default=0)
    tl.add_argument("--workers", type=int, default=0, help="rendering processes")
    tl.add_argument("--cache", help="LUDB page cache (.npz): read if it exists, else written from ECG_DATA_DIR")
    tl.add_argument("--json", help="write the training report here")
    tl.add_argument("--out", help="weights path, e.g. weights/panels_maskrcnn.pt")
    tl.set_defaults(func=_cmd_train_panels)

    tp = tr.add_parser("pretrain", help="self-supervised HuBERT-style encoder on unlabelled MIT-BIH DS1 + LUDB")
    tp.add_argument("--model-kwargs", default="{}", help="JSON (ecg_core.models.hubert.HubertEncoder arguments)")
    _training_options(tp, "pretrain")
    tp.add_argument("--db", nargs="+", default=["mitdb", "ludb"], choices=["mitdb", "ludb"])
    tp.add_argument("--segment-s", type=float, default=2.0)
    tp.add_argument("--clusters", type=int, default=64, help="k-means targets")
    tp.add_argument("--limit-records", type=int, help="only this many records (a quick run)")
    tp.add_argument("--out", help="weights path, e.g. weights/hubert_ecg.pt")
    tp.set_defaults(func=_cmd_train_pretrain)

    be = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bench_cmd", required=True)
    bq = be.add_parser("quantize", help="fp32 / int8 / ONNX variants of the beat models: size, latency, DS2 F1")
    bq.add_argument("--weights", nargs="*", help="default: weights/beat_*.pt")
    bq.add_argument("--repeats", type=int, default=30)
    bq.add_argument("--json", help="write the rows here")
    bq.set_defaults(func=_cmd_bench_quantize)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except ECGError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
