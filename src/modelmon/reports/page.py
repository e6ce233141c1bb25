"""The shell every HTML report shares: one document, inline CSS, readable on a phone, in print."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["REPORT_CSS", "html_page", "table"]

REPORT_CSS = """
:root{--fg:#1d2430;--muted:#5b6575;--line:#d8dde5;--bg:#fff;--ok:#1b7f3b;--bad:#b42318;
--base:#8a94a6;--cur:#2563eb;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{margin:0 auto;max-width:1100px;padding:1rem;color:var(--fg);background:var(--bg);
line-height:1.45}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid var(--line)}h3{font-size:1.05rem;margin:.2rem 0}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.5rem 0}
.facts dt{color:var(--muted)}.facts dd{margin:0}
.verdict{font-weight:600;font-size:1.1rem}.verdict.ok{color:var(--ok)}.verdict.bad{color:var(--bad)}
.table-wrap{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f4f6f9}
.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.8rem;color:#fff}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.muted{background:var(--base)}
.feature{border:1px solid var(--line);border-radius:.4rem;padding:.6rem .8rem;margin:1rem 0}
.feature-body{display:grid;grid-template-columns:minmax(0,2fr) minmax(12rem,1fr);gap:1rem}
@media (max-width:700px){.feature-body{grid-template-columns:1fr}}
.rule{color:var(--muted);margin:.1rem 0 .4rem}
svg.chart{width:100%;height:auto}svg .grid{stroke:#eef0f4}svg .axis-line{stroke:#9aa3b2}
svg .axis{font-size:10px;fill:var(--muted)}svg .baseline{fill:var(--base)}
svg .current{fill:var(--cur)}
a{color:#1d4ed8}a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
details{margin-top:.4rem}summary{cursor:pointer;color:var(--muted)}
@media print{details{display:none}.feature{break-inside:avoid}}
"""


def html_page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No network at all: a report opened from a mail attachment fetches nothing.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{REPORT_CSS}</style></head>"
        f"<body><main>{body}</main>"
        '<footer><p class="rule">Made by modelmon from summary statistics; '
        "it holds no raw rows.</p></footer></body></html>"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, raw: bool = False) -> str:
    """A table; cells are escaped unless ``raw`` (they are HTML already)."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else escape(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
