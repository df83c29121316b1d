"""Lead panels on rendered pages: targets, scoring by hand, the classical digitiser's panels, the Mask R-CNN
trained through the CLI, and the shipped panel model on held-out renders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ecg_core.digitize import unrotate_points
from ecg_core.train.panels import classical_panels, panel_sample, panel_scores


def test_panel_targets_follow_the_printed_trace_of_a_ludb_record(ludb):
    from ecg_core.data.ludb import load_ludb
    from ecg_core.data.render import render_record

    rec, _ = load_ludb("1")
    s = panel_sample(rec, (512, 1024))
    page = render_record(rec)
    assert s["image"].shape == (512, 1024, 3) and list(s["labels"]) == [p.lead_index + 1 for p in page.panels]
    assert len(s["labels"]) == 13 and s["masks"].shape == (13, 256, 512)
    sx, sy = 1024 / page.image.shape[1], 512 / page.image.shape[0]
    for k, p in enumerate(page.panels):
        x0, y0, x1, y1 = p.box
        assert np.allclose(s["boxes"][k], [x0 * sx, y0 * sy, x1 * sx, y1 * sy], atol=0.01)
        ys, xs = np.nonzero(s["masks"][k])
        assert len(xs) > 200  # the trace is drawn
        # the mask is this panel's trace: inside its box (the line's width of slack)
        assert ((2 * xs >= s["boxes"][k, 0] - 6) & (2 * xs <= s["boxes"][k, 2] + 6)).mean() > 0.99
        assert ((2 * ys >= s["boxes"][k, 1] - 6) & (2 * ys <= s["boxes"][k, 3] + 6)).mean() > 0.97
    ink = s["image"].min(axis=2) < 100
    on = np.kron(s["masks"].max(axis=0), np.ones((2, 2), np.uint8)).astype(bool)
    assert on[ink].mean() > 0.85  # measured 0.92: the ink outside is lead labels and calibration pulses


def test_photographed_targets_move_with_the_page(ludb):
    from ecg_core.data.ludb import load_ludb

    rec, _ = load_ludb("1")
    s = panel_sample(rec, (512, 1024), np.random.default_rng(3), photo=0.8)
    ink = s["image"].min(axis=2) < 90
    on = np.kron(s["masks"].max(axis=0), np.ones((2, 2), np.uint8)).astype(bool)
    assert on[ink].mean() > 0.85  # measured 0.94
    assert not np.allclose(s["boxes"], panel_sample(rec, (512, 1024))["boxes"], atol=2)


def test_panel_scores_by_hand():
    truth = {"boxes": np.array([[0, 0, 10, 10], [10, 0, 20, 10]], float), "labels": np.array([1, 2])}
    pred = {"boxes": np.array([[0, 0, 10, 8], [10, 0, 20, 10], [30, 30, 40, 40]], float),
            "labels": np.array([1, 3, 2])}
    s = panel_scores([pred], [truth])
    # box 1: IoU 0.8 with the right lead (a match); box 2: right place, wrong lead; box 3: nowhere
    assert (s["tp"], s["fp"], s["fn"]) == (1, 2, 1)
    assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == pytest.approx(0.5)
    assert s["mean_iou"] == pytest.approx(0.8) and s["pages_all_correct"] == 0
    assert panel_scores([truth], [truth])["pages_all_correct"] == 1.0


def test_unrotate_undoes_pil_rotation():
    img = np.zeros((100, 200), np.uint8)
    img[20, 150] = 255
    r = np.asarray(Image.fromarray(img).rotate(10, resample=Image.BILINEAR))
    y, x = np.unravel_index(np.argmax(r), r.shape)
    assert np.allclose(unrotate_points(np.array([[x, y]], float), 10, 200, 100), [[150, 20]], atol=1.0)


def test_classical_panels_of_clean_renders_are_exact(ludb):
    from ecg_core.data.ludb import load_ludb

    for name in ("1", "2"):
        rec, _ = load_ludb(name)
        s = panel_sample(rec, (512, 1024))
        r = panel_scores([classical_panels(s["image"], rec.lead_names)], [s])
        assert r["f1"] == 1.0 and r["mean_iou"] > 0.95, r


def test_cli_trains_and_evaluates_a_panel_model(ludb, tmp_path):
    from ecg_core.cli import main
    from ecg_core.data.ludb import ludb_folds
    from ecg_core.train.keypoints import page_cache

    folds = ludb_folds()
    held = list(folds[0][:1])
    cache = page_cache(held + list(folds[1][:2]), tmp_path / "pages.npz")
    out = tmp_path / "panels.pt"
    assert main(["train", "panels", "--cache", str(cache), "--epochs", "1", "--batch-size", "1", "--repeats", "1",
                 "--img-size", "128", "256", "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["held_fold"] == 0 and card["report"]["fit_records"] == 1 and card["sha256"]
    res = tmp_path / "eval.json"
    assert main(["evaluate", "panels", "--weights", str(out), "--cache", str(cache), "--records", *held,
                 "--photo", "0.5", "--json", str(res)]) == 0
    r = json.loads(res.read_text())
    assert set(r) >= {"clean", "photo_0.5"} and set(r["clean"]) >= {"maskrcnn", "classical"}
    assert r["clean"]["maskrcnn"]["pages"] == 1


def test_layout_leads_names_panels_by_their_place_on_the_page(ludb):
    from ecg_core.data.ludb import load_ludb
    from ecg_core.predict.panels import layout_leads

    rec, _ = load_ludb("1")
    s = panel_sample(rec, (512, 1024))
    order = np.random.default_rng(0).permutation(13)
    boxes, scores = s["boxes"][order], np.linspace(0.9, 0.6, 13)
    # a duplicate of the first box with a lower score is dropped, the true labels come back
    dup = np.concatenate([boxes, boxes[:1] + 2]), np.concatenate([scores, [0.55]])
    idx, labels = layout_leads(*dup, rec.lead_names)
    assert sorted(idx) == list(range(13))
    assert list(labels) == [s["labels"][order][i] for i in idx]
    assert layout_leads(boxes[:12], scores[:12], rec.lead_names) is None  # a panel missing: not the 3 x 4 page


def test_shipped_panel_model_on_held_out_renders(ludb):
    """The shipped Mask R-CNN on clean renders of records of its held-out fold: every panel found; with
    leads from the layout every page right."""
    from ecg_core.data.ludb import load_ludb, ludb_folds
    from ecg_core.predict.panels import by_layout, detect_panels, load_panel_model
    from tests.conftest import ROOT

    model, spec, card = load_panel_model(ROOT / "weights" / "panels_maskrcnn.pt")
    held = list(ludb_folds()[card["held_fold"]][:3])
    own, laid, truth = [], [], []
    for name in held:
        rec, _ = load_ludb(name)
        s = panel_sample(rec, spec.img_size)
        d = detect_panels(model, spec, s["image"])
        own.append(d)
        laid.append(by_layout(d, rec.lead_names))
        truth.append(s)
    assert panel_scores(own, truth)["recall"] == 1.0  # measured 1.0 (precision 0.68: middle columns' leads)
    r = panel_scores(laid, truth)
    assert r["f1"] == 1.0 and r["mean_iou"] > 0.85, r  # measured 1.0, 0.92 over the whole fold


def test_fine_prints_keep_their_lines_when_shrunk(ludb):
    from ecg_core.data.ludb import load_ludb
    from ecg_core.data.render import RenderStyle, render_record, shrink_page

    rec, _ = load_ludb("1")

    def ink(img):
        return (img.min(axis=2) < 100).mean()

    coarse = render_record(rec, style=RenderStyle(dpi=100)).image
    fine = render_record(rec, style=RenderStyle(dpi=200)).image
    plain = np.asarray(Image.fromarray(fine).resize((1024, 512), Image.BILINEAR))
    # a 100 dpi page is shrunk as it is; a 200 dpi one keeps about the ink of the 100 dpi page, not half of it
    assert np.array_equal(shrink_page(coarse, (512, 1024)),
                          np.asarray(Image.fromarray(coarse).resize((1024, 512), Image.BILINEAR)))
    target = ink(shrink_page(coarse, (512, 1024)))
    # measured: ink share 0.0115 at 100 dpi; at 200 dpi 0.0006 shrunk plainly, 0.019 through shrink_page
    assert ink(plain) < 0.7 * target and 0.7 * target < ink(shrink_page(fine, (512, 1024))) < 2.0 * target
