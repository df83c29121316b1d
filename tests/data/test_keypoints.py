"""Beat keypoints on rendered pages, photo augmentation geometry, and the DETR matching, loss and scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecg_core.data.keypoints import KEYPOINTS, page_sample, render_beats
from ecg_core.data.render import photo_augment
from ecg_core.predict.keypoints import BeatObjects, decode, pack_predictions
from ecg_core.train.keypoints import (
    KeypointSpec,
    hungarian_match,
    keypoint_scores,
    pack_targets,
    sample_truth,
    set_loss,
)


def test_beat_objects_sit_on_the_drawn_trace_of_a_ludb_record(ludb):
    from ecg_core.data.ludb import load_ludb

    rec, waves = load_ludb("1")
    page, obj = render_beats(rec, waves)
    # 3 x 4 panels + rhythm strip over the marked window: every marked QRS of a panel is one object
    assert len(obj) > 20 and set(obj.leads) == set(range(12))
    r = KEYPOINTS.index("R")
    assert obj.vis[:, r].all()  # every object is a marked QRS, so its R is visible
    # the R keypoint is a dark trace pixel (or next to one) on the page
    img = page.image.astype(int).sum(axis=2)
    for x, y in obj.kps[:, r]:
        xi, yi = int(round(x)), int(round(y))
        assert img[max(yi - 2, 0):yi + 3, max(xi - 2, 0):xi + 3].min() < 200
    # boxes hold their visible keypoints
    for b, k, v in zip(obj.boxes, obj.kps, obj.vis):
        inside = (k[v, 0] >= b[0] - 1) & (k[v, 0] <= b[2] + 1) & (k[v, 1] >= b[1] - 1) & (k[v, 1] <= b[3] + 1)
        assert inside.all()
    s = page_sample(page, obj, (256, 512))
    assert s["image"].shape == (256, 512, 3) and (s["boxes"] >= 0).all() and (s["boxes"] <= 1).all()
    assert s["mm_x"] == pytest.approx(page.px_per_mm / page.image.shape[1])


def test_photo_augment_moves_points_with_the_page():
    img = np.full((200, 400, 3), 255, np.uint8)
    pts = np.array([[60.0, 50.0], [300.0, 150.0], [200.0, 100.0]])
    for x, y in pts.astype(int):
        img[y - 2:y + 3, x - 2:x + 3] = 0
    for seed in range(5):
        out, moved = photo_augment(img, pts, np.random.default_rng(seed), strength=1.0)
        assert out.shape == img.shape and moved.shape == pts.shape
        dark = out.astype(int).sum(axis=2)
        for x, y in moved:
            xi, yi = int(round(x)), int(round(y))
            assert dark[yi - 3:yi + 4, xi - 3:xi + 4].min() < dark.mean() - 150  # the dot went where the point went
    same, kept = photo_augment(img, pts, np.random.default_rng(0), strength=0.0)
    assert same is img and kept is pts


def _targets(n: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    boxes = np.c_[rng.uniform(0.2, 0.8, (n, 2)), rng.uniform(0.05, 0.1, (n, 2))].astype(np.float32)
    kps = (boxes[:, None, :2] + rng.uniform(-0.02, 0.02, (n, 5, 2))).astype(np.float32)
    vis = np.ones((n, 5), bool)
    vis[0, 0] = False
    return {"image": np.zeros((8, 16, 3), np.uint8), "boxes": boxes, "kps": kps, "vis": vis,
            "leads": rng.integers(0, 12, n), "mm_x": np.float32(0.004), "mm_y": np.float32(0.008)}


def _perfect_output(t: dict, q: int = 10, perm=None):
    """Model outputs that hold the true objects in query slots ``perm`` and empty queries elsewhere."""
    n = len(t["leads"])
    perm = np.arange(n) if perm is None else perm
    logits = torch.full((1, q, 12), -9.0)
    boxes = torch.full((1, q, 4), 0.5)
    kps = torch.full((1, q, 5, 2), 0.5)
    vis = torch.full((1, q, 5), -9.0)
    for j, i in enumerate(perm):
        logits[0, i, int(t["leads"][j])] = 9.0
        boxes[0, i] = torch.from_numpy(t["boxes"][j])
        kps[0, i] = torch.from_numpy(t["kps"][j])
        vis[0, i] = torch.from_numpy(np.where(t["vis"][j], 9.0, -9.0))
    return {"logits": logits, "boxes": boxes, "kps": kps, "vis": vis, "aux": []}


def test_hungarian_matching_recovers_a_permutation_and_the_loss_of_a_perfect_answer_is_small():
    t = _targets()
    perm = np.array([7, 2, 9, 0, 4, 5])
    out = _perfect_output(t, perm=perm)
    _, y = pack_targets([t])
    spec = KeypointSpec()
    (qi, ti), = hungarian_match(out, y, spec.cost)
    assert dict(zip(ti.tolist(), qi.tolist())) == dict(enumerate(perm.tolist()))
    loss, parts = set_loss(out, y, spec)
    # GIoU: torchvision's loss adds 1e-7 to its denominators, a few 1e-5 on boxes of a few mm
    assert parts["l1"] < 1e-6 and parts["giou"] < 1e-4 and parts["kp"] < 1e-6 and parts["cls"] < 1e-3
    # moving one keypoint by 0.1 adds exactly 0.1 / (visible keypoints) to the keypoint loss
    out2 = _perfect_output(t, perm=perm)
    out2["kps"][0, perm[1], 2, 0] += 0.1
    _, parts2 = set_loss(out2, y, spec)
    assert parts2["kp"] == pytest.approx(0.1 / t["vis"].sum(), rel=1e-4)


def test_decode_suppresses_duplicates_and_scores_keypoints_by_hand():
    t = _targets()
    out = _perfect_output(t, q=12)
    out["logits"][0, 10] = out["logits"][0, 0]  # a duplicate of object 0, slightly shifted
    out["boxes"][0, 10] = out["boxes"][0, 0] + 0.001
    out["kps"][0, 10] = out["kps"][0, 0] + 0.001
    out["vis"][0, 10] = out["vis"][0, 0]
    (pred,) = decode(pack_predictions(out))
    assert len(pred) == 6  # non-maximum suppression removed the duplicate
    truth = sample_truth(t)
    s = keypoint_scores([pred], [truth])
    assert s["R"]["f1"] == 1.0 and s["P"]["tp"] == 5 and s["P"]["fn"] == 0  # object 0's P is not marked
    # shift every predicted R by 2 mm (80 ms): all R become misses and false alarms at 40 ms, hits at 100 ms
    pred.kps[:, 2, 0] += 2 * t["mm_x"]
    s = keypoint_scores([pred], [truth])
    assert s["R"]["tp"] == 0 and s["R"]["fp"] == 6 and s["R"]["fn"] == 6
    s = keypoint_scores([pred], [truth], tol_ms=100.0)
    assert s["R"]["f1"] == 1.0 and s["R"]["mean_abs_error_ms"] == pytest.approx(80.0, rel=1e-3)


def test_a_small_detr_learns_on_two_rendered_records(ludb):
    from ecg_core.models import create_model
    from ecg_core.predict.keypoints import model_config
    from ecg_core.train.keypoints import KeypointTask, PageBatches, load_page_cache, page_cache

    items = load_page_cache(page_cache(["1", "2"], __import__("tempfile").mkdtemp() + "/pages.npz"))
    spec = KeypointSpec(img_size=(128, 256), model_kwargs=dict(dim=64, depth=2, heads=2, dec_layers=2, num_queries=48,
                                                               query_grid=(4, 12)))
    torch.manual_seed(0)
    model = create_model("vit_detr", **model_config(spec))
    task = KeypointTask(spec)
    batches = PageBatches(list(items.values()), spec, 2, augment=False)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4)
    batch = next(iter(batches))
    first = float(task.step(model, batch)["loss"])
    for _ in range(40):
        loss = task.step(model, batch)["loss"]
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
    assert float(task.step(model, batch)["loss"]) < 0.6 * first


def test_cli_trains_saves_and_evaluates_a_keypoint_model(ludb, tmp_path):
    import json

    from ecg_core.cli import main
    from ecg_core.data.ludb import ludb_folds
    from ecg_core.train.keypoints import page_cache

    folds = ludb_folds()
    held = list(folds[0][:2])
    cache = page_cache(held + list(folds[1][:3]), tmp_path / "pages.npz")
    tiny = '{"dim": 32, "depth": 1, "heads": 2, "dec_layers": 1, "num_queries": 32, "query_grid": [4, 8]}'
    out = tmp_path / "kp.pt"
    assert main(["train", "keypoints", "--cache", str(cache), "--epochs", "1", "--batch-size", "2", "--repeats", "1",
                 "--img-size", "128", "256", "--model-kwargs", tiny, "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["held_fold"] == 0 and card["report"]["fit_records"] == 2 and card["sha256"]
    # the decoding (score threshold, NMS overlap) is chosen on the inner-validation records, kept with the model
    from ecg_core.predict.keypoints import load_keypoint_model
    from ecg_core.train.keypoints import NMS_IOUS, THRESHOLDS

    dec = card["report"]["decoding"]
    assert dec["records"] == card["report"]["inner_val_records"]
    assert len(dec["table"]) == len(THRESHOLDS) * len(NMS_IOUS)
    assert dec["inner_val"]["f1_prt"] == max(r["f1_prt"] for r in dec["table"])
    assert load_keypoint_model(out)[1].score_threshold == dec["score_threshold"] == card["spec"]["score_threshold"]
    res = tmp_path / "eval.json"
    assert main(["evaluate", "keypoints", "--weights", str(out), "--cache", str(cache), "--records", *held,
                 "--photo", "0.5", "--json", str(res)]) == 0
    r = json.loads(res.read_text())
    assert r["clean"]["n_records"] == 2 and set(r["photo"]["keypoints"]) == set(KEYPOINTS)
    # digitise, then delineate (no detector), and the hybrid, on the same renders
    for method in ("digitised", "hybrid"):
        res_m = tmp_path / f"{method}.json"
        assert main(["evaluate", "keypoints", "--weights", str(out), "--cache", str(cache), "--records", *held,
                     "--photo", "0.3", "--method", method, "--json", str(res_m)]) == 0
        r_m = json.loads(res_m.read_text())
        assert r_m["method"] == method and set(r_m["photo"]["keypoints"]) == set(KEYPOINTS)
    assert r_m["clean"]["keypoints"]["R"]["tp"] >= 0 and "sha256" in r_m
    assert json.loads((tmp_path / "digitised.json").read_text())["clean"]["keypoints"]["R"]["f1"] > 0.8
    # records missing from the cache are named, not a traceback
    assert main(["evaluate", "keypoints", "--weights", str(out), "--cache", str(cache), "--records", "999"]) == 2
    # training goes on from a saved model (--init): same architecture, its card is remembered
    out2 = tmp_path / "kp2.pt"
    assert main(["train", "keypoints", "--cache", str(cache), "--epochs", "1", "--batch-size", "2", "--repeats", "1",
                 "--img-size", "128", "256", "--init", str(out), "--out", str(out2)]) == 0
    card2 = json.loads(out2.with_suffix(".json").read_text())
    assert card2["init_from"]["sha256"] == card["sha256"] and card2["spec"]["model_kwargs"] == json.loads(tiny)
    # a keypoint refiner added to it and trained alone: every other weight (and batch-norm statistic) stays
    out3 = tmp_path / "kp3.pt"
    assert main(["train", "keypoints", "--cache", str(cache), "--epochs", "1", "--batch-size", "2", "--repeats", "1",
                 "--img-size", "128", "256", "--init", str(out2), "--model-kwargs", '{"refine": true}',
                 "--train-only", "refine", "--out", str(out3)]) == 0
    before, after = load_keypoint_model(out2)[0].state_dict(), load_keypoint_model(out3)[0].state_dict()
    assert load_keypoint_model(out3)[1].model_kwargs == {**json.loads(tiny), "refine": True}
    assert all(torch.equal(before[k], v) for k, v in after.items() if not k.startswith("refine."))
    assert after["refine.out.weight"].abs().sum() > 0  # it started at zero
    # asked to train a part the model does not have: said so
    assert main(["train", "keypoints", "--cache", str(cache), "--epochs", "1", "--batch-size", "2", "--repeats", "1",
                 "--img-size", "128", "256", "--init", str(out2), "--train-only", "refine"]) == 2


def test_an_untrained_refiner_returns_the_first_guesses_and_keeps_those_outside_its_crop():
    """The refiner's output layer starts at zero: each keypoint's distribution is the Gaussian bump around its
    first guess, whose mean is the guess itself (away from the crop's ends); a guess outside the widened box
    is returned unchanged."""
    from ecg_core.models.detr import KeypointRefiner

    torch.manual_seed(0)
    ref = KeypointRefiner(dim=32, n_kp=5).eval()
    boxes = torch.tensor([[[0.5, 0.5, 0.2, 0.1], [0.3, 0.4, 0.1, 0.05]]]).repeat(2, 1, 1)
    left = boxes[..., :1] - boxes[..., 2:3] * ref.expand / 2
    span = boxes[..., 2:3] * ref.expand
    u = torch.tensor([0.3, 0.4, 0.5, 0.7, 1.3])  # crop units: the last lies past the widened box
    kx = left + u * span
    with torch.no_grad():
        out = ref(torch.rand(2, 3, 128, 256), boxes, kx, torch.randn(2, 2, 32))
    assert torch.allclose(out[..., :4], kx[..., :4], atol=1e-3 * float(span.min()))
    assert torch.equal(out[..., 4], kx[..., 4])


def test_giou_loss_is_torchvisions_on_centre_size_boxes():
    from torchvision.ops import generalized_box_iou

    from ecg_core.predict.keypoints import xyxy
    from ecg_core.train.keypoints import giou_loss

    g = torch.Generator().manual_seed(0)
    a = torch.cat([torch.rand(7, 2, generator=g), 0.05 + 0.3 * torch.rand(7, 2, generator=g)], dim=1)
    b = torch.cat([torch.rand(7, 2, generator=g), 0.05 + 0.3 * torch.rand(7, 2, generator=g)], dim=1)
    pairwise = generalized_box_iou(xyxy(a), xyxy(b))
    assert torch.allclose(giou_loss(a, b), (1 - pairwise.diagonal()).sum(), atol=1e-5)
    assert float(giou_loss(a, a)) < 1e-4 and float(giou_loss(a, b)) > 1.0  # eps 1e-7 in each denominator
    assert torch.allclose(xyxy(torch.tensor([[0.5, 0.5, 0.2, 0.4]])), torch.tensor([[0.4, 0.3, 0.6, 0.7]]))


def test_denoising_queries_are_invisible_to_the_object_queries():
    from ecg_core.models import create_model
    from ecg_core.train.keypoints import KeypointTask, make_dn

    spec = KeypointSpec(img_size=(64, 128), dn=True, model_kwargs=dict(dim=32, depth=1, heads=2, dec_layers=2,
                                                                       num_queries=16, query_grid=(2, 8)))
    torch.manual_seed(0)
    model = create_model("vit_detr", img_size=(64, 128), dim=32, depth=1, heads=2, dec_layers=2, num_queries=16,
                         query_grid=(2, 8)).eval()
    t = _targets()
    t["image"] = np.random.default_rng(0).integers(0, 255, (64, 128, 3), dtype=np.uint8)
    img, y = pack_targets([t, {**t, "leads": t["leads"][:3], "boxes": t["boxes"][:3], "kps": t["kps"][:3],
                                   "vis": t["vis"][:3]}])
    dn = make_dn(y, spec)
    assert dn["valid"].sum() == 9 and dn["ref"].shape == (2, 6, 2)  # as many as the fullest page
    with torch.no_grad():
        plain, noised = model(img), model(img, dn)
    for k in ("logits", "boxes", "kps", "vis"):  # the object queries' answers do not change
        assert torch.allclose(plain[k], noised[k], atol=1e-5), k
    assert len(noised["dn"]) == 2 and noised["dn"][-1]["boxes"].shape == (2, 6, 4)
    model.train()
    loss = KeypointTask(spec).step(model, {"image": img, "y": y})["loss"]
    loss.backward()
    assert model.label_emb.weight.grad.abs().sum() > 0  # the denoising path is trained


def test_shipped_detector_beats_a_trivial_baseline_on_held_out_renders(ludb):
    """The shipped ViT-DETR on clean renders of records of its held-out fold, against "a beat every second"
    (60 bpm, started at each lead's first true R peak, at the lead's mean R height: generous)."""
    from ecg_core.data.ludb import load_ludb, ludb_folds
    from ecg_core.predict.keypoints import detect_keypoints, load_keypoint_model
    from ecg_core.train.keypoints import keypoint_scores, render_sample
    from tests.conftest import ROOT

    model, spec, card = load_keypoint_model(ROOT / "weights" / "keypoints_detr.pt")
    held = list(ludb_folds()[card["held_fold"]][:4])
    preds, base, truth = [], [], []
    r = list(KEYPOINTS).index("R")
    for name in held:
        s = render_sample(*load_ludb(name), spec.img_size, None)
        truth.append(sample_truth(s))
        preds += detect_keypoints(model, s["image"][None], spec)
        leads, kps = [], []
        for lead in np.unique(s["leads"]):
            pts = s["kps"][(s["leads"] == lead) & (s["vis"][:, r] > 0), r]
            for x in np.arange(pts[:, 0].min(), pts[:, 0].max() + 1e-9, 25 * s["mm_x"]):
                leads.append(lead)
                kps.append(np.tile([x, pts[:, 1].mean()], (len(KEYPOINTS), 1)))
        vis = np.zeros((len(leads), len(KEYPOINTS)), bool)
        vis[:, r] = True
        base.append(BeatObjects(np.ones(len(leads)), np.array(leads), np.zeros((len(leads), 4)), np.array(kps), vis))
    model_r = keypoint_scores(preds, truth)["R"]
    base_r = keypoint_scores(base, truth)["R"]
    assert model_r["f1"] > 0.88 and model_r["precision"] > 0.88  # measured 0.94, 0.95 (baseline 0.43)
    assert model_r["f1"] > base_r["f1"] + 0.3, (model_r, base_r)
    assert model_r["mean_abs_error_ms"] < 6  # measured 3.4 ms: the refiner reads the beat's pixels


def test_digitised_and_hybrid_keypoints_on_held_out_renders(ludb):
    """Digitise, then delineate (the delineation fold model that never saw the records) and the hybrid (the
    shipped ViT-DETR's points placed on the delineated trace) on clean renders of four held-out records: all
    three place R within a few ms; the delineated trace places T better than the detector alone, and the
    hybrid takes part of that gain."""
    from ecg_core.data.ludb import load_ludb, ludb_folds
    from ecg_core.predict.delineation import held_out_delineators
    from ecg_core.predict.keypoints import load_keypoint_model
    from ecg_core.train.keypoints import evaluate_keypoints
    from tests.conftest import ROOT

    model, spec, card = load_keypoint_model(ROOT / "weights" / "keypoints_detr.pt")
    held = list(ludb_folds()[card["held_fold"]][:4])
    items = {n: load_ludb(n) for n in held}
    delineators = held_out_delineators(held)
    alone = evaluate_keypoints(model, spec, items, held)["keypoints"]
    read = evaluate_keypoints(None, None, items, held, delineators=delineators)["keypoints"]
    both = evaluate_keypoints(model, spec, items, held, delineators=delineators)["keypoints"]
    # measured R F1 0.94 alone, 0.93 read, 0.94 both; R error 3.4, 3.6, 3.7 ms; T F1 0.76, 0.86, 0.82
    assert min(r["R"]["f1"] for r in (alone, read, both)) > 0.88, (alone["R"], read["R"], both["R"])
    assert max(r["R"]["mean_abs_error_ms"] for r in (alone, read, both)) < 6
    assert read["T"]["f1"] > alone["T"]["f1"] + 0.05 and both["T"]["f1"] > alone["T"]["f1"] + 0.02
    assert min(read[k]["f1"] for k in "PT") > 0.75


def test_fusion_moves_detected_points_onto_the_read_ones_and_adds_beats_only_on_agreement():
    from dataclasses import replace

    from ecg_core.predict.keypoints import fuse_keypoints

    ppm = 4.0  # pixels per mm: 40 ms is 4 px, 120 ms 12 px

    def objs(xs, lead=0, mm=ppm):
        n = len(xs)
        kps = np.zeros((n, len(KEYPOINTS), 2))
        kps[:, :, 0] = np.asarray(xs, float)[:, None] + np.arange(len(KEYPOINTS)) * 20.0
        kps[:, :, 1] = 100.0
        return BeatObjects(np.ones(n), np.full(n, lead), np.zeros((n, 4)), kps, np.ones((n, len(KEYPOINTS)), bool),
                           (mm, mm))

    det = objs([100.0, 300.0, 500.0], mm=float("nan"))  # the detector alone does not know the paper's scale
    read = objs([102.0, 310.0, 700.0, 900.0])  # 0.5 mm and 2.5 mm off, then two beats the detector missed
    out = fuse_keypoints(det, read)
    assert np.allclose(out.kps[:2, :, 0], read.kps[:2, :, 0])  # moved (within 120 ms = 12 px)
    assert np.allclose(out.kps[2], det.kps[2])  # no partner within 120 ms: kept where detected
    assert out.agreement == pytest.approx(1 / 3)  # R within 40 ms: only the first
    assert len(out) == 3 and out.mm == (ppm, ppm)  # too little agreement to trust the reading's extra beats
    det2 = objs([100.0, 300.0, 500.0])
    read2 = objs([101.0, 301.0, 501.0, 700.0])
    out2 = fuse_keypoints(det2, read2)
    assert out2.agreement == 1.0 and len(out2) == 4  # the missed beat added from the reading
    assert np.allclose(out2.kps[3], read2.kps[3])
    # other leads never pair; an unreadable page leaves the detection as it was
    other = fuse_keypoints(det, replace(read, leads=np.ones(4, np.int64)))
    assert np.allclose(other.kps, det.kps) and other.agreement == 0.0
    alone = fuse_keypoints(det, BeatObjects.empty())
    assert np.allclose(alone.kps, det.kps) and np.isnan(alone.agreement)


def test_two_stage_dense_loss_wants_the_token_under_each_box_centre():
    from ecg_core.train.keypoints import dense_loss

    t = _targets()
    _, y = pack_targets([t])
    gh, gw = 8, 16
    cells = (t["boxes"][:, 1] * gh).astype(int) * gw + (t["boxes"][:, 0] * gw).astype(int)

    def enc(cells_at):
        logits = torch.full((1, gh * gw, 12), -9.0)
        boxes = torch.full((1, gh * gw, 4), 0.5)
        for j, c in enumerate(cells_at):
            logits[0, c, int(t["leads"][j])] = 9.0
            boxes[0, c] = torch.from_numpy(t["boxes"][j])
        return {"logits": logits, "boxes": boxes, "grid": (gh, gw)}

    right = dense_loss(enc(cells), y)
    wrong = dense_loss(enc((cells + 1) % (gh * gw)), y)
    assert float(right["cls"]) < 1e-3 and float(right["l1"]) < 1e-6 and float(right["giou"]) < 1e-4
    assert float(wrong["cls"]) > 1.0


def test_two_stage_queries_start_at_the_best_proposals():
    from ecg_core.models import create_model
    from ecg_core.models.detr import inverse_sigmoid

    torch.manual_seed(0)
    m = create_model("vit_detr", img_size=(64, 128), dim=32, depth=1, heads=2, dec_layers=1, num_queries=6,
                     query_grid=(2, 3), two_stage=True).eval()
    captured = {}
    m.query_pos.register_forward_hook(lambda mod, inp, out: captured.setdefault("pos", inp[0]))
    with torch.no_grad():
        out = m(torch.rand(1, 3, 64, 128))
    enc = out["enc"]
    assert enc["logits"].shape == (1, 4 * 8, 12) and enc["grid"] == (4, 8)
    top = enc["logits"].max(-1).values.topk(6, dim=1).indices[0]
    centres = enc["boxes"][0, top, :2]
    from ecg_core.models.detr import sine_embedding

    assert torch.allclose(captured["pos"][0], sine_embedding(inverse_sigmoid(centres).sigmoid(), 32), atol=1e-4)
