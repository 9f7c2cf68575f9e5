"""The migration report as one self-contained HTML page (inline CSS, no scripts, no external files)."""

from __future__ import annotations

from html import escape

from mynacard.tools.harness.migration import FUNCTIONS, Entry, Verdict, aliases_label

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
td.works { background: #cfe8c4; }
td.breaks { background: #f6c9c4; }
td.unreached { background: #f4e7b8; }
ul { margin: 0; padding-left: 1.2em; }
"""

_CLASSES = {"works": "works", "breaks": "breaks", "not reached": "unreached"}


def page(entries: list[Entry], title: str = "mynacard: migration legacy-2016 → nextgen-2026") -> str:
    targets = list(entries[0].targets) if entries else []
    head = "".join(f"<th>{escape(t)} ({aliases_label(t)})</th>" for t in targets)
    rows = [
        f"<tr><td>{escape(e.client)}</td><td>{escape(FUNCTIONS[e.function])}</td>{_today(e)}"
        + "".join(_td(e.targets[t]) for t in targets)
        + "</tr>"
        for e in entries
        if e.today_verdict.status != "not exercised" or e.today
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            "<p>Per client and function, measured with today's golden client sequences: what still works on"
            " the next card, what breaks and why, and what the client has to change. Functions a client's"
            " golden sequences do not exercise are left out.</p>",
            f"<table><tr><th>client</th><th>function</th><th>today</th>{head}</tr>",
            *rows,
            "</table></body></html>",
        ]
    )


def _today(entry: Entry) -> str:
    status = entry.today_verdict.status
    if status == "works" or not entry.today:
        return f'<td class="{_CLASSES.get(status, "")}">{escape(status)} on legacy-2016</td>'
    return (
        f'<td class="works">{escape(status)} on legacy-2016; works on {escape(", ".join(entry.today))}</td>'
    )


def _td(verdict: Verdict) -> str:
    items = "".join(f"<li>{escape(kind)}</li>" for kind in verdict.breaks)
    changes = "".join(f"<li>change: {escape(change)}</li>" for change in verdict.changes)
    body = f"{escape(verdict.status)}<ul>{items}{changes}</ul>" if items else escape(verdict.status)
    return f'<td class="{_CLASSES.get(verdict.status, "")}">{body}</td>'
