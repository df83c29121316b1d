"""The read of one record as a report: PDF (fpdf2) and self-contained HTML.

A report holds what the pages showed, laid out as an ECG machine's printout: a header block (record,
age, sex, date; heart rate, PR, QRS, QT/QTc, P-R-T axes; the interpretive statements; "Unconfirmed —
requires physician review"), the tracing on ECG paper (the project's renderer), each statement's evidence,
the interval measurements and their flags, the 12-lead findings with their uncertainty, the beat classes and rhythm
summary, the versions (file and sha256) of the models that made them, and the disclaimer. Every part
but the tracing is optional, so a report can be made from whatever was computed.

HTML is built by hand with every text value escaped (record names and metadata come from uploads); the
PDF uses fpdf2's core fonts, which cover Latin-1 only, so other characters are replaced.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from PIL import Image

from .data.render import RenderStyle, render_record
from .findings import reconcile
from .record import Record

__all__ = ["ReadReport", "build_report", "report_html", "report_pdf", "DISCLAIMER", "UNCONFIRMED"]

UNCONFIRMED = "Unconfirmed - requires physician review"
DISCLAIMER = ("Research software, not a medical device. Every figure here is a model's or an algorithm's "
              "output and must be checked by a qualified clinician before any clinical use.")


@dataclass
class ReadReport:
    """Everything a report shows, as plain values (so it can be rendered to any format)."""

    record_name: str
    fs: float
    lead_names: tuple[str, ...]
    duration_s: float
    created_utc: str
    tracing_png: bytes
    tracing_caption: str
    patient: dict[str, str] = field(default_factory=dict)
    measurements: list[dict] = field(default_factory=list)
    measurement_flags: list[str] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    findings_note: str = ""
    beats: list[dict] = field(default_factory=list)
    rhythm: list[dict] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)
    disclaimer: str = DISCLAIMER
    #: the printout's header: one line of the key measurements, the statements as printed, their evidence
    key_measurements: str = ""
    statements: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _key_measurements(m, formula: str) -> str:
    """HR, PR, QRS, QT/QTc and the P-R-T axes on one line, as a printout's header gives them (a dash for
    what was not measured)."""
    def v(name, unit="ms"):
        x = getattr(m, name, None)
        return "-" if x is None or not np.isfinite(x) else f"{x:.0f}{' ' + unit if unit else ''}"

    qtc = (getattr(m, "qtc_ms", None) or {}).get(formula)
    qtc_s = "-" if qtc is None or not np.isfinite(qtc) else f"{qtc:.0f} ms"
    return (f"HR {v('hr_bpm', 'bpm')} | PR {v('pr_ms')} | QRS {v('qrs_ms')} | QT/QTc {v('qt_ms', '')}/{qtc_s} "
            f"({formula}) | P-R-T axes {v('p_axis', '')} {v('qrs_axis', '')} {v('t_axis', '')}")


def build_report(record: Record, *, diagnosis: dict | None = None, measurements=None, qtc_formula: str = "Bazett",
                 ectopy=None, models: list[dict] | tuple = (), start_s: float = 0.0,
                 interpretation=None) -> ReadReport:
    """Collect a report of ``record``.

    ``interpretation``: an :class:`ecg_core.interpret.Interpretation` (its statements head the report);
    ``diagnosis``: a :class:`ecg_core.predict.diagnosis.Diagnosis`; ``measurements``: a
    :class:`ecg_core.signal.intervals.Measurements`; ``ectopy``: an
    :class:`ecg_core.signal.ectopy.EctopySummary`; ``models``: one dict per model used (``role``,
    ``file``, ``sha256``, ``note``), as read from the model cards. The tracing shows 10 s from ``start_s``.
    """
    duration = min(10.0, record.duration_s - start_s)
    page = render_record(record, start_s=start_s, duration_s=duration, style=RenderStyle(dpi=150))
    layout = "3 x 4 with a lead II rhythm strip" if len(page.panels) > len(record.lead_names) else "one strip per lead"
    caption = (f"{duration:.1f} s from {start_s:.1f} s, {layout}; 25 mm/s, 10 mm/mV, "
               f"{page.px_per_mm:.1f} px per mm")
    meta = record.metadata or {}
    patient = {k: _fmt(meta[k]) for k in ("id", "age", "sex", "date", "time", "height", "weight")
               if meta.get(k) not in (None, "")}
    rep = ReadReport(record_name=record.name, fs=float(record.fs), lead_names=tuple(record.lead_names),
                     duration_s=float(record.duration_s),
                     created_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                     tracing_png=_png(page.image), tracing_caption=caption, patient=patient,
                     models=[{k: str(m.get(k, "")) for k in ("role", "file", "sha256", "note")} for m in models])
    if interpretation is not None:
        rep.statements = [t for t in interpretation.lines()]
        rep.evidence = [{"statement": st.text, "leads": ", ".join(st.leads), "evidence": st.evidence,
                         "source": st.source} for st in interpretation.statements]
    if measurements is not None:
        rep.key_measurements = _key_measurements(measurements, qtc_formula)
        rep.measurements = [r for r in measurements.table(qtc_formula)]
        rep.measurement_flags = list(measurements.flags)
    if diagnosis is not None:
        found = reconcile(diagnosis, measurements)
        for f in found:
            rep.findings.append({"finding": f.label, "probability": f.probability, "sd": f.sd,
                                 "status": f.status + (f": {f.evidence}" if f.evidence else "")})
        n = diagnosis.n_members * diagnosis.mc_samples
        gates = ", ".join(f"{k} {v:.2f}" for k, v in diagnosis.gates.items() if np.isfinite(v))
        disagree = " ".join(f.sentence() for f in found if f.model_disagrees)
        rep.findings_note = (f"Probability: mean of {n} samples (fold models x MC dropout), temperature-scaled; "
                             f"SD: their spread. Modality gates: {gates}. The model reads the first 10 s. "
                             "Where a measurement settles a finding, the measurement decides its status."
                             + (f" {disagree}" if disagree else ""))
    if ectopy is not None:
        total = max(ectopy.n_beats, 1)
        rep.beats = [{"class": c, "beats": int(n), "share (%)": round(100.0 * n / total, 2)}
                     for c, n in ectopy.counts.items()]
        rep.rhythm = [{"origin": o, "couplets": ectopy.couplets.get(o, 0), "runs (>=3)": ectopy.runs.get(o, 0),
                       "longest run": ectopy.longest_run.get(o, 0),
                       "bigeminy episodes": ectopy.bigeminy_episodes.get(o, 0),
                       "trigeminy episodes": ectopy.trigeminy_episodes.get(o, 0)} for o in ("V", "S")]
    return rep


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and np.isfinite(v) and v == round(v):
        return str(int(v))
    if isinstance(v, float):
        return "-" if not np.isfinite(v) else f"{v:.3g}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def _sections(rep: ReadReport) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) of each table section, shared by HTML and PDF."""
    out = []
    if rep.evidence:
        out.append(("Statements and their evidence", ["statement", "leads", "evidence", "source"],
                    [[e["statement"], e["leads"], e["evidence"], e["source"]] for e in rep.evidence],
                    "Criteria from the AHA/ACCF/HRS recommendations and the Fourth Universal Definition of MI; "
                    "each statement's reference is in the JSON read (python -m ecg_core read --json). " + UNCONFIRMED
                    + "."))
    if rep.measurements:
        out.append(("Measurements", ["measurement", "value", "unit", "normal"],
                    [[_fmt(r["measurement"]), _fmt(r["value"]), r["unit"], r["normal"]] for r in rep.measurements],
                    ("Flags: " + "; ".join(rep.measurement_flags)) if rep.measurement_flags else "No flags raised."))
    if rep.findings:
        out.append(("12-lead findings", ["finding", "probability", "SD", "status"],
                    [[f["finding"], f"{f['probability']:.2f}", f"{f['sd']:.2f}", f["status"]] for f in rep.findings],
                    rep.findings_note))
    if rep.beats:
        out.append(("Beat classes", list(rep.beats[0]), [[_fmt(v) for v in r.values()] for r in rep.beats],
                    "AAMI classes: N normal/bundle-branch, S supraventricular ectopic, V ventricular ectopic, "
                    "F fusion, Q unclassifiable."))
    if rep.rhythm:
        out.append(("Rhythm summary", list(rep.rhythm[0]), [[_fmt(v) for v in r.values()] for r in rep.rhythm], ""))
    if rep.models:
        out.append(("Models", ["role", "file", "sha256", "note"],
                    [[m["role"], m["file"], m["sha256"][:16], m["note"]] for m in rep.models], ""))
    return out


def _header_lines(rep: ReadReport) -> list[str]:
    lines = [f"Record: {rep.record_name}", f"{len(rep.lead_names)} leads ({', '.join(rep.lead_names)}), "
             f"{rep.fs:g} Hz, {rep.duration_s:.1f} s", f"Generated: {rep.created_utc}"]
    if rep.patient:
        lines.append("Patient: " + ", ".join(f"{k} {v}" for k, v in rep.patient.items()))
    if rep.key_measurements:
        lines.append(rep.key_measurements)
    return lines


def _statement_lines(rep: ReadReport) -> list[str]:
    """The printout's interpretation block: the statements, then the review note."""
    return [*rep.statements, UNCONFIRMED] if rep.statements else []


def report_html(rep: ReadReport) -> str:
    """A self-contained HTML page (the tracing inlined as a PNG data URI; no scripts, no external links)."""
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>ECG read: {e(rep.record_name)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
             "text-align:left}th{background:#f3f3f3}.warn{background:#fff4e5;border:1px solid #f0b36e;"
             "padding:.6em}img{max-width:100%}.note{color:#555;font-size:90%}</style></head><body>",
             f"<h1>ECG read: {e(rep.record_name)}</h1>",
             f"<p class='warn'>{e(rep.disclaimer)}</p>",
             "<p>" + "<br>".join(e(x) for x in _header_lines(rep)) + "</p>",
             *(["<p><b>" + "<br>".join(e(x) for x in _statement_lines(rep)) + "</b></p>"] if rep.statements else []),
             "<h2>Tracing</h2>",
             f"<img alt='ECG tracing' src='data:image/png;base64,{base64.b64encode(rep.tracing_png).decode()}'>",
             f"<p class='note'>{e(rep.tracing_caption)}</p>"]
    for title, header, rows, note in _sections(rep):
        parts.append(f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
        parts.append("</table>" + (f"<p class='note'>{e(note)}</p>" if note else ""))
    parts.append("</body></html>")
    return "\n".join(parts)


def _latin1(s: str) -> str:
    s = (s.replace("\u2013", "-").replace("\u2014", "-").replace("\u2265", ">=").replace("\u2264", "<=")
         .replace("\u00b1", "+/-").replace("\u2019", "'").replace("\u00d7", "x"))
    return s.encode("latin-1", "replace").decode("latin-1")


def report_pdf(rep: ReadReport) -> bytes:
    """The report as an A4 landscape PDF."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_title(_latin1(f"ECG read: {rep.record_name}"))
    pdf.set_creator("ecg_core")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _latin1(f"ECG read: {rep.record_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_fill_color(255, 244, 229)
    pdf.multi_cell(0, 5, _latin1(rep.disclaimer), border=1, fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    for line in _header_lines(rep):
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    for line in _statement_lines(rep):
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.ln(2)
    img = Image.open(io.BytesIO(rep.tracing_png))
    h = width * img.height / img.width
    if pdf.get_y() + h > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.image(img, x=pdf.l_margin, w=width)
    pdf.set_font("Helvetica", "I", 8)
    pdf.cell(0, 5, _latin1(rep.tracing_caption), new_x="LMARGIN", new_y="NEXT")
    for title, header, rows, note in _sections(rep):
        if pdf.get_y() + 7 + 5 * min(len(rows) + 1, 6) > pdf.h - pdf.b_margin:
            pdf.add_page()  # keep a heading with the start of its table
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        with pdf.table(text_align="LEFT", line_height=5, first_row_as_headings=True) as table:
            for r in [header, *rows]:
                row = table.row()
                for c in r:
                    row.cell(_latin1(str(c)))
        if note:
            pdf.set_font("Helvetica", "I", 8)
            pdf.multi_cell(0, 4, _latin1(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
