"""Training runs launched from the dashboard (or any script): a small file-based run queue.

A run is a folder ``RUNS/<id>/`` holding ``job.json`` (task, options, the ``python -m ecg_core train ...``
command, status), ``log.txt`` (everything the command printed) and ``train/`` (the shared loop's
``metrics.jsonl``, ``progress.json`` and ``last.pt``, one folder per fold for the cross-validated tasks).
The training command runs in a background process of its own session, under a small supervisor
(``python -m ecg_core.workbench RUN``) that records how it ended and starts the next queued run, so runs
survive page reloads and a closed browser, and the queue moves without anyone watching.

Statuses: ``queued`` → ``running`` → ``done`` | ``failed`` | ``stopped``; ``died`` when the supervisor
vanished (machine restart, SIGKILL). A stopped, failed or died run can be resumed: the same command with
``--resume`` goes on from each fold's last finished epoch. At most ``max_running`` runs (``ECG_MAX_RUNS``,
default 1) train at once; the others wait in order.

Written by hand: no well-kept job queue fits a single machine without a server (Celery, RQ and Ray need
a broker or a cluster); a folder per run and a lock file are enough here.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import atomic_path, atomic_write_text
from .errors import ECGError
from .io.records import data_dir, find_records
from .recipes import loop_defaults

__all__ = ["TASKS", "TaskInfo", "runs_root", "training_allowed", "build_command", "submit", "schedule", "stop",
           "resume", "list_runs", "current_job", "read_job", "run_progress", "run_metrics", "log_tail", "promote",
           "data_available", "display_command"]

FINAL = ("done", "failed", "stopped", "died", "cancelled")


@dataclass(frozen=True)
class TaskInfo:
    """One trainable task as the Training page offers it."""

    name: str  # the ``train`` subcommand
    title: str
    db: str  # the database folder it needs under ECG_DATA_DIR
    models: tuple[str, ...]  # registry names it can train ("" when the command has no --model)
    folds: int  # models trained per run (patient-wise cross-validation)
    monitor: str  # the validation metric the loop selects on (a metrics.jsonl column)
    out: str  # the weights file name it writes (and is promoted to)
    options: dict = field(default_factory=dict)  # task options: name -> default (a list: the choices)

    @property
    def defaults(self) -> dict:
        """The shared loop options' defaults (:data:`ecg_core.recipes.LOOP_DEFAULTS`)."""
        return {k: v for k, v in loop_defaults(self.name).items() if k != "amp"}


TASKS: dict[str, TaskInfo] = {t.name: t for t in [
    TaskInfo("beats", "Beat classes (MIT-BIH DS1, 4 patient-wise folds)", "mitdb",
             ("beat_template_resnet", "beat_dualbranch", "beat_resnet1d", "beat_mobilenet1d", "beat_hubert"), 4,
             "val_macro_f1_nsvf", "beat_diagnostic.pt",
             {"mode": ["diagnostic", "realtime"], "loss": ["focal", "cross_entropy", "class_balanced", "ldam"],
              "augment": False, "balanced_sampling": False, "label_fraction": "1.0", "init_encoder": "",
              "augment_ops": ""}),
    TaskInfo("delineation", "P/QRS/T delineation (LUDB, 5 folds)", "ludb", ("delineation_unet",), 5,
             "val_macro_f1_waves", "delineation_unet.pt",
             {"crop": 3072, "no_augment": False, "invert_leads": False, "augment_ops": ""}),
    TaskInfo("multimodal", "12-lead diagnosis (LUDB, 5 folds)", "ludb", ("",), 5, "val_macro_auc",
             "multimodal_ludb.pt",
             {"modalities": ["signal image meta", "signal meta", "signal", "image"], "augment_ops": ""}),
    TaskInfo("keypoints", "Image keypoints, ViT-DETR (LUDB renders)", "ludb", ("",), 1, "val_f1_prt",
             "keypoints_detr.pt",
             {"img_size": "512 1024", "repeats": 8, "dn": False}),
    TaskInfo("panels", "Lead panels and traces, Mask R-CNN (LUDB renders)", "ludb", ("",), 1, "val_f1",
             "panels_maskrcnn.pt",
             {"img_size": "512 1024", "repeats": 4}),
    TaskInfo("pretrain", "Self-supervised encoder, HuBERT-style (MIT-BIH DS1 + LUDB, unlabelled)", "mitdb", ("",), 1,
             "val_masked_acc", "hubert_ecg.pt",
             {"db": "mitdb ludb", "clusters": 64, "segment_s": "2.0", "limit_records": ""}),
]}


def training_allowed() -> bool:
    """False when ``ECG_ALLOW_TRAINING`` is 0 / false / no / off: a shared server where visitors must not
    start processes; runs are then shown read-only and :func:`submit` / :func:`resume` refuse."""
    return os.environ.get("ECG_ALLOW_TRAINING", "1").strip().lower() not in ("0", "false", "no", "off")


def _check_allowed() -> None:
    if not training_allowed():
        raise ECGError("training is switched off on this server (ECG_ALLOW_TRAINING=0)")


def runs_root() -> Path:
    """``ECG_RUNS_DIR``, else ``runs/workbench`` under the working folder."""
    return Path(os.environ.get("ECG_RUNS_DIR") or "runs/workbench")


def data_available(task: str, options: dict | None = None) -> str | None:
    """None when the task's data is there (its database under ECG_DATA_DIR, or for keypoints a page
    cache named in ``options``, as for lead panels), else a message that says what is missing."""
    info = TASKS[task]
    cache = (options or {}).get("cache")
    if cache and Path(cache).is_file():
        return None
    if data_dir() is None:
        return "ECG_DATA_DIR is not set or is not a folder: training needs the real databases"
    if not find_records(info.db).get(info.db):
        return f"{info.title} needs the {info.db} database: no records in {data_dir() / info.db}"
    return None


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_command(task: str, options: dict, run_dir: Path | str | None = None) -> list[str]:
    """The ``train`` command line (after ``python -m ecg_core``) for ``task`` with ``options`` (shared loop
    options and task options; ``True`` flags, lists and strings of several words become several
    arguments; ``None`` and ``False`` are left out)."""
    if task not in TASKS:
        raise ECGError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    argv = ["-v", "train", task]
    for k, v in options.items():
        if v is None or v is False or v == "":
            continue
        if v is True:
            argv.append(_flag(k))
        elif isinstance(v, (list, tuple)):
            argv += [_flag(k), *map(str, v)]
        elif isinstance(v, str) and k in ("modalities", "img_size", "folds", "augment_ops", "db"):
            argv += [_flag(k), *v.split()]
        else:
            argv += [_flag(k), str(v)]
    if run_dir is not None:
        run_dir = Path(run_dir)
        argv += ["--run-dir", str(run_dir / "train"), "--out", str(run_dir / TASKS[task].out)]
    return argv


def display_command(argv: list[str]) -> str:
    return "python -m ecg_core " + " ".join(shlex.quote(a) for a in argv)


# --- the queue -------------------------------------------------------------------------------------------

@contextmanager
def _locked(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_job(run: Path, job: dict) -> None:
    atomic_write_text(run / "job.json", json.dumps(job, indent=1))


def read_job(run: Path | str) -> dict:
    return json.loads((Path(run) / "job.json").read_text())


def _update(run: Path, **changes) -> dict:
    job = {**read_job(run), **changes}
    _write_job(run, job)
    return job


def submit(task: str, options: dict, root: Path | str | None = None, note: str = "", start: bool = True) -> Path:
    """Queue a run of ``task`` and (``start``) start it if the queue has room; returns its folder."""
    _check_allowed()
    root = Path(root) if root is not None else runs_root()
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + task + "-" + uuid.uuid4().hex[:4]
    run = root / run_id
    argv = build_command(task, options, run.resolve())
    run.mkdir(parents=True)
    _write_job(run, {"id": run_id, "task": task, "options": options, "argv": argv, "note": note,
                     "status": "queued", "created": time.time(), "segments": [], "resume": False,
                     "cwd": os.getcwd()})
    if start:
        schedule(root)
    return run


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has ended
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def _refresh(run: Path, job: dict) -> dict:
    """Mark a run whose supervisor vanished as died (as stopped when a stop had been asked for: a stop
    that came before the supervisor was ready ends it at once)."""
    if job["status"] == "running" and not _alive(job.get("pid")):
        time.sleep(0.2)  # the supervisor may be writing its final status right now
        job = read_job(run)
        if job["status"] == "running":
            job = _update(run, status="stopped" if job.get("stop_requested") else "died", ended=time.time())
    return job


def current_job(run: Path | str) -> dict | None:
    """One run's job as :func:`list_runs` gives it (died runs marked); None when its folder is gone."""
    run = Path(run)
    try:
        return _refresh(run, read_job(run))
    except (OSError, ValueError):
        return None


def list_runs(root: Path | str | None = None) -> list[dict]:
    """Every run's job (newest first), with died runs marked."""
    root = Path(root) if root is not None else runs_root()
    jobs = []
    for f in sorted(root.glob("*/job.json")):
        job = current_job(f.parent)
        if job is not None:  # else a folder being written right now
            jobs.append(job)
    return sorted(jobs, key=lambda j: j["created"], reverse=True)


def _reap(proc: subprocess.Popen) -> None:
    threading.Thread(target=proc.wait, daemon=True).start()


def schedule(root: Path | str | None = None, max_running: int | None = None) -> list[str]:
    """Start queued runs (oldest first) while fewer than ``max_running`` run; returns the started ids."""
    root = Path(root) if root is not None else runs_root()
    max_running = max_running or int(os.environ.get("ECG_MAX_RUNS", "1"))
    started = []
    with _locked(root):
        jobs = list_runs(root)
        running = sum(j["status"] == "running" for j in jobs)
        for job in sorted((j for j in jobs if j["status"] == "queued"), key=lambda j: j["created"]):
            if running >= max_running:
                break
            run = root / job["id"]
            proc = subprocess.Popen([sys.executable, "-m", "ecg_core.workbench", str(run.resolve())],
                                    cwd=job["cwd"], start_new_session=True, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _reap(proc)
            _update(run, status="running", pid=proc.pid, started=time.time())
            running += 1
            started.append(job["id"])
    return started


def stop(run: Path | str, wait_s: float = 20.0) -> dict:
    """Stop a running run (SIGTERM to its process group; it keeps its last finished epoch; waits up to
    ``wait_s`` for it to end, then starts the next queued run) or take a queued one off the queue."""
    run = Path(run)
    with _locked(run.parent):
        job = _refresh(run, read_job(run))
        if job["status"] == "queued":
            return _update(run, status="cancelled", ended=time.time())
        if job["status"] != "running":
            raise ECGError(f"run {job['id']} is {job['status']}, not running")
        job = _update(run, stop_requested=True)
    try:
        os.killpg(job["pid"], signal.SIGTERM)
    except ProcessLookupError:
        pass
    t0 = time.time()
    while time.time() - t0 < wait_s:
        job = _refresh(run, read_job(run))
        if job["status"] != "running":
            break
        time.sleep(0.1)
    schedule(run.parent)
    return job


def resume(run: Path | str, start: bool = True) -> dict:
    """Queue a stopped, failed or died run again with ``--resume`` (each fold goes on from its last
    finished epoch); finished folds are not trained again."""
    _check_allowed()
    run = Path(run)
    with _locked(run.parent):
        job = _refresh(run, read_job(run))
        if job["status"] not in ("stopped", "failed", "died"):
            raise ECGError(f"run {job['id']} is {job['status']}: only a stopped, failed or died run resumes")
        job = _update(run, status="queued", resume=True, stop_requested=False, created_resume=time.time())
    if start:
        schedule(run.parent)
    return job


def _supervise(run: Path) -> int:
    """Run the job's command, log its output, record how it ended, then start the next queued run."""
    job = read_job(run)
    argv = list(job["argv"]) + (["--resume"] if job.get("resume") else [])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.time()
    with open(run / "log.txt", "ab") as log:
        log.write(f"$ {display_command(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen([sys.executable, "-m", "ecg_core", *argv], cwd=job["cwd"], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        rc = proc.wait()
    with _locked(run.parent):
        job = read_job(run)
        status = "stopped" if job.get("stop_requested") else ("done" if rc == 0 else "failed")
        segments = job.get("segments", []) + [{"start": t0, "end": time.time(), "rc": rc}]
        _update(run, status=status, rc=rc, ended=time.time(), segments=segments)
    schedule(run.parent)
    return 0


# --- reading a run -------------------------------------------------------------------------------------

def _fold_dirs(run: Path) -> list[Path]:
    train = run / "train"
    if (train / "progress.json").exists() or (train / "metrics.jsonl").exists():
        return [train]
    return sorted(p for p in train.glob("fold*") if p.is_dir())


def run_progress(run: Path | str) -> dict:
    """Share of the run done (0-1, over every fold's epochs and batches), the current fold / epoch /
    batch, seconds trained in this run and an ETA (an upper bound: early stopping may end sooner)."""
    run = Path(run)
    job = read_job(run)
    info = TASKS[job["task"]]
    opts = job["options"]
    epochs = int(opts.get("epochs") or info.defaults["epochs"])
    folds = opts.get("folds")
    n_folds = len(folds.split() if isinstance(folds, str) else folds) if folds else info.folds
    units, current, seconds = 0.0, None, 0.0
    for d in _fold_dirs(run):
        try:
            p = json.loads((d / "progress.json").read_text())
        except (OSError, ValueError):
            continue
        seconds += p.get("seconds", 0.0)
        if p.get("finished"):
            units += 1.0
        else:
            units += (p["epoch"] + (p["batch"] / p["batches"] if p.get("batches") else 0.0)) / max(p["epochs"], 1)
            current = {"fold": d.name, **p}
    frac = min(units / max(n_folds, 1), 1.0)
    eta = None
    if job["status"] == "running" and 0 < frac < 1 and seconds > 0:
        eta = seconds * (1 - frac) / frac
    if job["status"] == "done":
        frac = 1.0
    return {"fraction": frac, "current": current, "seconds": seconds, "eta_s": eta, "folds": n_folds,
            "epochs": epochs}


def run_metrics(run: Path | str) -> list[dict]:
    """Every finished epoch of every fold: the rows of ``metrics.jsonl`` with a ``fold`` key added."""
    rows = []
    for d in _fold_dirs(Path(run)):
        try:
            lines = (d / "metrics.jsonl").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                rows.append({"fold": d.name, **json.loads(line)})
            except ValueError:
                continue  # a line being written
    return rows


def log_tail(run: Path | str, n: int = 30) -> str:
    try:
        with open(Path(run) / "log.txt", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(f.tell() - 64_000, 0))
            return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def promote(run: Path | str, dest_dir: Path | str = "weights", name: str | None = None,
            overwrite: bool = False) -> Path:
    """Copy a finished run's weights and model card into ``dest_dir`` (the card records the run it came
    from); an existing file is replaced only with ``overwrite``."""
    run = Path(run)
    job = read_job(run)
    if job["status"] != "done":
        raise ECGError(f"run {job['id']} is {job['status']}: only a finished run can be promoted")
    src = run / TASKS[job["task"]].out
    card_src = src.with_suffix(".json")
    if not src.exists() or not card_src.exists():
        raise ECGError(f"run {job['id']} saved no weights (a quick run of some folds saves none)")
    dest = Path(dest_dir) / (name or src.name)
    if dest.suffix != ".pt":
        raise ECGError(f"weights must be a .pt file, not {dest.name!r}")
    if dest.exists() and not overwrite:
        raise ECGError(f"{dest} exists: replace it only when the new run's measured figures are better")
    dest.parent.mkdir(parents=True, exist_ok=True)
    card = json.loads(card_src.read_text())
    card["promoted_from"] = {"run": job["id"], "command": display_command(job["argv"]), "time": time.time()}
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    atomic_write_text(dest.with_suffix(".json"), json.dumps(card, indent=2))
    return dest


if __name__ == "__main__":
    sys.exit(_supervise(Path(sys.argv[1])))
