"""Numbers as Vietnamese documents and messages print them.

Pure Python, standard library only.  Every number dvk prints goes through one of these (the
ledger's own messages too, which is why they live in this bottom layer; `dvk.wording` offers them
with the phrases built on them).

* :func:`doc_number` — the number of a document symbol: 5 -> "05", 12 -> "12".
* :func:`thousands` — a count with the Vietnamese thousands separator: 100000 -> "100.000".
* :func:`fmt_number` — a weight, a mark or a bound, as short as it is exact: 8 -> "8", 8.5 -> "8,5".
* :func:`fmt_score` — a score with two decimals and a decimal comma: 83.25 -> "83,25".
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

__all__ = ["PLACES", "doc_number", "fmt_number", "fmt_score", "thousands"]

#: The decimal places a weight, a scale end, a pass mark or a mark can have (criteria files allow 3).
PLACES = 3


def doc_number(n: int) -> str:
    """Number part of a document symbol: 5 -> "05", 12 -> "12" (days under 10 and numbers under 10
    take a leading zero, as Decree 30/2020/NĐ-CP prints them)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"Số văn bản phải là số nguyên từ 1 trở lên, nhận được: {n!r}.")
    return f"{n:02d}"


def thousands(n: int) -> str:
    """A whole number with dots between the thousands: 100000 -> "100.000", -1234 -> "-1.234"."""
    return f"{n:,}".replace(",", ".")


def fmt_number(x: Fraction | Decimal | float | int) -> str:
    """A number with a decimal comma, as short as it is exact: 8 -> "8", 8.5 -> "8,5", 0.125 ->
    "0,125".  Values with more than `PLACES` decimals (which criteria files refuse) are rounded to
    `PLACES` places."""
    if not isinstance(x, Fraction):
        x = Fraction(str(x))
    if x.denominator == 1:
        return str(x.numerator)
    text = f"{float(round(x, PLACES)):.{PLACES}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace(".", ",")


def fmt_score(x: Fraction | float | None) -> str:
    """A score in Vietnamese notation, two decimals with a decimal comma: 83.25 -> "83,25"; None -> "—"."""
    if x is None:
        return "—"
    return f"{float(x):.2f}".replace(".", ",")


def fmt_bytes(n: int) -> str:
    """A size in bytes as Vietnamese writes it: "512 B", "1,5 MB", "3,2 GB" (units of 1024)."""
    x = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if x < 1024 or unit == "TB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}".replace(".", ",")
        x /= 1024
    raise AssertionError("unreachable")
