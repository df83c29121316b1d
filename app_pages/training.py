"""Training: launch background runs of any task, watch them, stop / resume, compare, promote."""

import json
import os
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages._common import init_state
from ecg_core import workbench as wb
from ecg_core.errors import ECGError

init_state()
root = wb.runs_root()
st.title("Training")
shown = "ECG_RUNS_DIR" if os.environ.get("ECG_RUNS_DIR") else f"`{root}`"  # no machine paths on screen
st.caption(f"Runs are background processes: they go on when this page or the browser is closed. Run folder: "
           f"{shown} · at most {os.environ.get('ECG_MAX_RUNS', '1')} at a time, the others queue.")
ALLOWED = wb.training_allowed()
if not ALLOWED:
    st.info("Training is switched off on this server (ECG_ALLOW_TRAINING=0): runs are shown read-only.")
try:
    if ALLOWED:
        wb.schedule(root)  # moves the queue along if a run ended while nobody watched
except OSError as e:
    st.error(f"The run folder {root} cannot be used: {e}")
    st.stop()


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "–"
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _best(job: dict) -> float | None:
    """Mean over folds of each fold's best monitored validation value."""
    rows = pd.DataFrame(wb.run_metrics(root / job["id"]))
    monitor = wb.TASKS[job["task"]].monitor
    if rows.empty or monitor not in rows:
        return None
    return float(rows.groupby("fold")[monitor].max().mean())


# --- a new run ---------------------------------------------------------------------------------------------
def new_run_form() -> None:
    """Task, model, options, the equivalent command and the launch button."""
    with st.expander("New run", expanded=True):
        task = st.selectbox("Task", list(wb.TASKS), format_func=lambda t: wb.TASKS[t].title, key="tr_task")
        info = wb.TASKS[task]
        opts: dict = {}
        c1, c2, c3 = st.columns(3)
        if info.models[0]:
            opts["model"] = c1.selectbox("Model (registry)", info.models, key="tr_model")
        opts["model_kwargs"] = c2.text_input("Model options (JSON)", "{}", key="tr_model_kwargs") or None
        if opts["model_kwargs"] == "{}":
            opts["model_kwargs"] = None
        opts["seed"] = c3.number_input("Seed", 0, 10_000, 0, key="tr_seed")
        c1, c2, c3, c4 = st.columns(4)
        opts["epochs"] = c1.number_input("Epochs", 1, 1000, info.defaults["epochs"], key=f"tr_epochs_{task}")
        opts["batch_size"] = c2.number_input("Batch size", 1, 4096, info.defaults["batch_size"], key=f"tr_bs_{task}")
        opts["lr"] = c3.number_input("Learning rate", 1e-6, 1.0, info.defaults["lr"], format="%.5f",
                                     key=f"tr_lr_{task}")
        opts["patience"] = c4.number_input("Early-stopping patience (epochs)", 1, 1000, info.defaults["patience"],
                                           key=f"tr_pat_{task}")
        c1, c2, c3 = st.columns(3)
        limit = c1.number_input("Time limit per fold (min, 0: none)", 0.0, 10_000.0, 0.0, key="tr_limit")
        opts["time_limit_min"] = limit or None
        threads = c2.number_input("CPU threads (0: all)", 0, 256, 0, key="tr_threads")
        opts["threads"] = threads or None
        folds = c3.text_input(f"Only these folds (0-{info.folds - 1}; empty: all, saves weights)", "",
                              key=f"tr_folds_{task}") if info.folds > 1 else ""
        opts["folds"] = folds.strip() or None
        cols = st.columns(max(len(info.options), 1))
        for col, (name, default) in zip(cols, info.options.items()):
            label = name.replace("_", " ").capitalize()
            key = f"tr_{task}_{name}"
            if name == "augment_ops":
                from ecg_core.data.augment import AUGMENTATIONS

                chosen = col.multiselect("Augmentations (instead of the default set)", list(AUGMENTATIONS), key=key)
                opts[name] = " ".join(chosen)
            elif isinstance(default, list):
                opts[name] = col.selectbox(label, default, key=key)
            elif isinstance(default, bool):
                opts[name] = col.checkbox(label, default, key=key)
            elif isinstance(default, int):
                opts[name] = col.number_input(label, 0, 100_000, default, key=key)
            else:
                opts[name] = col.text_input(label, default, key=key)
        if task in ("keypoints", "panels"):
            opts["cache"] = st.text_input("LUDB page cache (.npz, optional: for a machine without LUDB)", "",
                                          key="tr_cache") or None
        note = st.text_input("Note (shown in the run list)", "", key="tr_note")
        missing = wb.data_available(task, opts)
        bad_json = None
        if opts["model_kwargs"]:
            try:
                json.loads(opts["model_kwargs"])
            except ValueError as e:
                bad_json = f"Model options are not valid JSON: {e}"
        st.caption("The same run from a terminal:")
        st.code(wb.display_command(wb.build_command(task, opts, "RUN")), language="bash")
        if missing:
            st.error(missing)
        if bad_json:
            st.error(bad_json)
        if st.button("Launch", type="primary", disabled=bool(missing or bad_json), key="tr_launch"):
            try:
                run = wb.submit(task, opts, root, note=note)
            except (ECGError, OSError) as e:
                st.error(f"The run could not be started: {e}")
            else:
                st.session_state["tr_selected"] = run.name
                st.success(f"Run {run.name} is {wb.read_job(run)['status']}.")


if ALLOWED:
    new_run_form()

# --- runs --------------------------------------------------------------------------------------------------
jobs = wb.list_runs(root)
st.subheader("Runs")
if not jobs:
    st.info("No runs yet.")
    st.stop()

running = any(j["status"] in ("running", "queued") for j in jobs)


@st.fragment(run_every=3 if running else None)
def runs_table() -> None:
    rows = []
    for j in wb.list_runs(root):
        p = wb.run_progress(root / j["id"])
        best = _best(j)
        rows.append({"run": j["id"], "task": j["task"], "status": j["status"], "progress": round(100 * p["fraction"]),
                     "best val (mean over folds)": None if best is None else round(best, 4),
                     "trained": _fmt_s(p["seconds"]), "ETA": _fmt_s(p["eta_s"]), "note": j.get("note", "")})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="tr_runs_table",
                 column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=100,
                                                                            format="%d %%")})


runs_table()
ids = [j["id"] for j in jobs]
sel = st.session_state.get("tr_selected")
selected = st.selectbox("Run", ids, index=ids.index(sel) if sel in ids else 0, key="tr_run_select")


def _curves(rows: pd.DataFrame, metric: str, by: str, title: str) -> go.Figure:
    fig = go.Figure()
    for name, part in rows.groupby(by):
        fig.add_scatter(x=part["epoch"], y=part[metric], mode="lines+markers", name=str(name))
    fig.update_layout(title=title, xaxis_title="epoch", height=300, margin=dict(l=40, r=10, t=40, b=30))
    return fig


@st.fragment(run_every=2 if running else None)
def run_panel(run_id: str) -> None:
    run = root / run_id
    job = wb.current_job(run)
    if job is None:
        st.warning("This run's folder is gone.")
        return
    info = wb.TASKS[job["task"]]
    p = wb.run_progress(run)
    cur = p["current"]
    where = f"{cur['fold']} · epoch {cur['epoch'] + 1}/{cur['epochs']} · batch {cur['batch']}/{cur['batches']}" \
        if cur else ""
    st.progress(p["fraction"], text=f"**{job['status']}** · {100 * p['fraction']:.0f} % {where} · "
                                    f"trained {_fmt_s(p['seconds'])} · ETA {_fmt_s(p['eta_s'])} (at most)")
    st.code(wb.display_command(job["argv"]), language="bash")
    rows = pd.DataFrame(wb.run_metrics(run))
    if not rows.empty:
        c1, c2 = st.columns(2)
        c1.plotly_chart(_curves(rows, "train_loss", "fold", "training loss"), key=f"tr_loss_{run_id}")
        if info.monitor in rows:
            c2.plotly_chart(_curves(rows, info.monitor, "fold", f"{info.monitor} (validation)"),
                            key=f"tr_val_{run_id}")
    st.caption("Log (last lines)")
    st.code(wb.log_tail(run) or "(nothing yet)", language="text")
    if not ALLOWED:
        return
    b1, b2, b3 = st.columns(3)
    try:
        if job["status"] in ("running", "queued") and b1.button("Stop", key=f"tr_stop_{run_id}"):
            wb.stop(run)
            st.rerun()
        if job["status"] in ("stopped", "failed", "died") and b2.button("Resume", key=f"tr_resume_{run_id}"):
            wb.resume(run, start=True)
            st.rerun()
    except ECGError as e:
        st.error(str(e))
    if job["status"] == "done":
        with b3.popover("Promote to weights/"):
            name = st.text_input("File name", info.out, key=f"tr_promote_name_{run_id}")
            overwrite = st.checkbox("Replace an existing file (only when this run's measured figures are better)",
                                    key=f"tr_promote_over_{run_id}")
            if st.button("Promote", key=f"tr_promote_{run_id}"):
                try:
                    dest = wb.promote(run, "weights", name, overwrite=overwrite)
                except (ECGError, OSError) as e:
                    st.error(str(e))
                else:
                    st.success(f"Copied to {dest} with its model card.")


run_panel(selected)

# --- compare -----------------------------------------------------------------------------------------------
st.subheader("Compare runs")
chosen = st.multiselect("Runs", ids, default=ids[:2], key="tr_compare")
if chosen:
    table, curves = [], []
    for run_id in chosen:
        job = wb.read_job(root / run_id)
        rows = wb.run_metrics(root / run_id)
        best = _best(job)
        table.append({"run": run_id, "task": job["task"], "status": job["status"],
                      "best val (mean over folds)": None if best is None else round(best, 4),
                      "epochs trained": len(rows), "options": json.dumps(job["options"])})
        for r in rows:
            curves.append({"run": run_id, **r})
    st.dataframe(pd.DataFrame(table), hide_index=True, key="tr_compare_table")
    df = pd.DataFrame(curves)
    if not df.empty:
        metrics = [c for c in df.columns if c == "train_loss" or c.startswith("val_")]
        metric = st.selectbox("Metric", metrics, key="tr_compare_metric")
        mean = df.groupby(["run", "epoch"], as_index=False)[metric].mean()  # folds averaged per epoch
        st.plotly_chart(_curves(mean, metric, "run", f"{metric}, mean over folds"), key="tr_compare_plot")
st.caption(f"Page drawn {time.strftime('%H:%M:%S')}.")
