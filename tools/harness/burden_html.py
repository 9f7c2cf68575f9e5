"""The holder's burden as one self-contained HTML page (負担の比較): the table of ``mynacard burden`` with the
totals, and the chart inline as SVG when matplotlib is there; no scripts, no external files."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from mynacard.tools.harness.burden import Tally, totals

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
tr.total td { font-weight: bold; background: #eee; }
"""
COLUMNS = (
    ("secrets", "secrets to know"),
    ("pin_entries", "PIN entries"),
    ("sessions", "card taps"),
    ("apdus", "APDUs"),
    ("bytes", "bytes"),
    ("wire_ms", "wire ms (106 kbit/s)"),
    ("model_ms", "card ms (timing model)"),
)


def page(tallies: Sequence[Tally], chart_svg: str | None = None) -> str:
    title = "mynacard: the holder's burden per workflow, legacy-2016 beside nextgen-2026"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<p>Each workflow run on the card: the distinct secrets the holder must know, the PIN entries, the"
        " card presentations (taps), and the APDUs and bytes on the wire.</p>",
        _table(tallies),
    ]
    if chart_svg is not None:
        parts.append(f"<h2>Chart</h2><figure>{_inline(chart_svg)}</figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(tallies: Sequence[Tally]) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in COLUMNS)
    lines = ["<table>", f"<tr><th>workflow</th><th>profile</th>{head}</tr>"]
    rows = sorted(tallies, key=lambda t: (t.workflow, t.profile))
    lines += [_row(t, "") for t in rows] + [_row(t, ' class="total"') for t in totals(tallies)]
    lines.append("</table>")
    return "\n".join(lines)


def _row(tally: Tally, attributes: str) -> str:
    row = tally.row()
    cells = "".join(f"<td>{escape(str(row[key]))}</td>" for key, _ in COLUMNS)
    secrets = escape(", ".join(sorted(tally.secrets)))
    profile = f'<td title="{secrets}">{escape(tally.profile)}</td>'
    return f"<tr{attributes}><td>{escape(tally.workflow)}</td>{profile}{cells}</tr>"


def _inline(svg: str) -> str:
    """An SVG file's document without its XML declaration and doctype, to sit inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else ""
