"""The compatibility matrix as one self-contained HTML page: no scripts, no external files, inline CSS.

Each cell shows ``pass`` or where the client stopped; its tooltip and the list below the table give the
failing exchange, the expected and the actual answer, and the reason.
"""

from __future__ import annotations

from html import escape

from mynacard.tools.harness.matrix import FORM_HEADERS, Cell, Matrix, causes

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; }
th.profile { writing-mode: vertical-rl; transform: rotate(180deg); }
td.pass { background: #cfe8c4; }
td.fail { background: #f6c9c4; }
code { font-size: 11px; }
"""


def page(matrix: Matrix, title: str = "mynacard: today's clients × profiles") -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<p>Every golden client sequence of today's card, measured on every profile: <b>pass</b>, or the"
        " exchange the client stopped at (its number and the card's status word) and why.</p>",
        _grid(matrix),
        _summary(matrix),
        _failures(matrix),
        "</body></html>",
    ]
    return "\n".join(parts)


def _grid(matrix: Matrix) -> str:
    letters = {cause: chr(ord("a") + i) for i, cause in enumerate(causes(matrix))}
    head = "".join(
        f'<th class="profile">{escape(p)}<br><small>{FORM_HEADERS[matrix.forms[p]]}</small></th>'
        for p in matrix.profiles
    )
    lines = ["<table>", f"<tr><th>client</th><th>sequence</th>{head}</tr>"]
    for client, sequence in matrix.rows():
        cells = "".join(_td(matrix.cell(sequence, p), letters) for p in matrix.profiles)
        lines.append(f"<tr><td>{escape(client)}</td><td><code>{escape(sequence)}</code></td>{cells}</tr>")
    lines.append("</table>")
    legend = "".join(f"<li><b>{letter}</b> {escape(cause)}</li>" for cause, letter in letters.items())
    return "\n".join(lines) + f"<h2>Causes</h2><ul>{legend}</ul>"


def _td(cell: Cell | None, letters: dict[str, str]) -> str:
    if cell is None:
        return "<td>—</td>"
    if cell.passed:
        return '<td class="pass">pass</td>'
    return f'<td class="fail" title="{escape(_detail(cell))}">{escape(cell.short)} {letters[cell.cause]}</td>'


def _detail(cell: Cell) -> str:
    if cell.exchange is None:
        return f"every answer as expected; {cell.reason}"
    return (
        f"#{cell.exchange} > {cell.command} < {cell.answer}; expected {cell.expected or 'see reason'};"
        f" {cell.reason}"
    )


def _summary(matrix: Matrix) -> str:
    whole = "".join(
        f"<li>{escape(c)}: {escape(', '.join(matrix.passes_whole(c)) or 'no profile')}</li>"
        for c in matrix.clients()
    )
    conflicts = "".join(
        f"<li>{escape(c.first[0])} <code>{escape(c.first[1])}</code> passes on"
        f" {escape(', '.join(c.first_passes_on))}; {escape(c.second[0])} <code>{escape(c.second[1])}</code>"
        f" on {escape(', '.join(c.second_passes_on))}</li>"
        for c in matrix.conflicts()
    )
    return (
        f"<h2>Where each client passes whole</h2><ul>{whole}</ul>"
        f"<h2>Conflicts: no profile satisfies both</h2><ul>{conflicts or '<li>none</li>'}</ul>"
    )


def _failures(matrix: Matrix) -> str:
    items = []
    for _, sequence in matrix.rows():
        for profile in matrix.profiles:
            cell = matrix.cell(sequence, profile)
            if cell is not None and not cell.passed:
                items.append(
                    f"<li><code>{escape(sequence)}</code> on {escape(profile)}: {escape(_detail(cell))}</li>"
                )
    return f"<h2>Every failing cell</h2><ul>{''.join(items)}</ul>"
