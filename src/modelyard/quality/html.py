"""A drift report as one small, self-contained HTML page. Pure: text in, text out.

Inline SVG bar charts (no JavaScript, no CDN, no external fonts), reference vs current
distributions of the drifted features first. Only statistics appear, never rows.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_html"]

_W, _H, _PAD = 420, 140, 24
_REF, _CUR = "#7a8ca3", "#d9534f"
_MAX_CHARTS = 24  # drifted first; keeps the page small


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return _e(value)


def _svg(chart: Mapping[str, Any]) -> str:
    ref: Sequence[float] = chart["reference"]
    cur: Sequence[float] = chart["current"]
    n = max(len(ref), 1)
    top = max([*ref, *cur, 1e-12])
    slot = (_W - 2 * _PAD) / n
    bar = max(slot / 2 - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H + 30}" '
        f'role="img" aria-label="{_e(chart["column"])}: reference vs current">',
        f'<line x1="{_PAD}" y1="{_H}" x2="{_W - _PAD}" y2="{_H}" stroke="#999"/>',
    ]
    for i, (r, c) in enumerate(zip(ref, cur, strict=False)):
        x = _PAD + i * slot
        for j, (value, color) in enumerate(((r, _REF), (c, _CUR))):
            h = (_H - 10) * value / top
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{_H - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{"current" if j else "reference"}: '
                f"{value:.3%}</title></rect>"
            )
    if chart.get("type") == "histogram":
        edges = chart["edges"]
        parts.append(
            f'<text x="{_PAD}" y="{_H + 14}" font-size="10">{_num(edges[0])}</text>'
            f'<text x="{_W - _PAD}" y="{_H + 14}" font-size="10" text-anchor="end">'
            f"{_num(edges[-1])}</text>"
        )
    else:
        for i, label in enumerate(chart.get("labels", [])):
            x = _PAD + i * slot + slot / 2
            parts.append(
                f'<text x="{x:.1f}" y="{_H + 12}" font-size="9" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {_H + 12})">{_e(str(label)[:14])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Mapping[str, Any]) -> str:
    """The HTML page of a drift report (``DriftReport.to_dict()``)."""
    title = f"Drift report · {report.get('model') or 'standalone'}"
    if report.get("model_version"):
        title += f" v{report['model_version']}"
    verdict = "DRIFT" if report["dataset_drift"] else "no drift"
    q = report["quality"]
    rows = []
    features = sorted(report["features"], key=lambda f: (not f["drifted"], -(f["score"] or 0)))
    for f in features:
        rows.append(
            "<tr{cls}><td>{col}</td><td>{kind}</td><td>{method}</td><td>{score}</td>"
            "<td>{p}</td><td>{eff}</td><td>{thr}</td><td>{drifted}</td><td>{why}</td></tr>".format(
                cls=' class="drift"' if f["drifted"] else "",
                col=_e(f["column"]),
                kind=_e(f["kind"]),
                method=_e(f["method"] or "–"),
                score=_num(f["score"]),
                p=_num(f["p_value"]),
                eff=_num(f["effect_size"]),
                thr=_num(f["threshold"]),
                drifted="yes" if f["drifted"] else "no",
                why=_e(", ".join(f["reasons"]) + (f" ({f['reason']})" if f["reason"] else "")),
            )
        )
    charts = "".join(
        f"<figure><figcaption>{_e(c['column'])} · {_e(c['method'])} = {_num(c['score'])}"
        f"{' · drifted' if c['drifted'] else ''}</figcaption>{_svg(c)}</figure>"
        for c in report["charts"][:_MAX_CHARTS]
    )
    if len(report["charts"]) > _MAX_CHARTS:
        charts += f"<p>{len(report['charts']) - _MAX_CHARTS} more features: see the table</p>"
    not_tested = "".join(
        f"<li>{_e(n['column'])}: {_e(n['reason'])}</li>" for n in report["not_tested"]
    )
    notes = "".join(f"<li>{_e(n)}</li>" for n in report.get("notes", []))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ddd;padding:3px 6px}}
tr.drift td{{background:#fbeaea}}figure{{display:inline-block;margin:8px}}
figcaption{{font-size:12px}}.k{{font-size:20px;font-weight:600}}
.legend span{{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}}
</style></head><body>
<h1>{_e(title)}</h1>
<p>batch {_e(report.get("batch_id") or "–")} · {_e(report.get("created_at") or "")}
 · report {_e(report.get("id") or "–")}</p>
<p class="k">{verdict}: drift score {_num(report["drift_score"])}
 ({len(report["drifted_features"])} of {report["tested_features"]} features drifted;
 threshold share {_num(report["thresholds"]["drift_share"])})</p>
<p>reference rows {report["reference_rows"]} · current rows {report["current_rows"]}
 · completeness {_num(q["completeness"])} · type validity {_num(q["type_validity"])}
 · range violations {_num(q["range_violation_rate"])} · unseen categories
 {_num(q["unseen_share"])}</p>
<h2>Distributions</h2>
<p class="legend"><span style="background:{_REF}"></span>reference
<span style="background:{_CUR}"></span>current</p>
{charts or "<p>no feature could be tested</p>"}
<h2>Features</h2>
<table><tr><th>column</th><th>kind</th><th>method</th><th>score</th><th>p-value</th>
<th>effect size</th><th>threshold</th><th>drifted</th><th>signals</th></tr>
{"".join(rows)}</table>
<h2>Not tested</h2><ul>{not_tested or "<li>none</li>"}</ul>
<h2>Notes</h2><ul>{notes or "<li>none</li>"}</ul>
</body></html>
"""
