"""Numbers as the book prints them: one formatting rule for every glued number and code-built table.

`number(-0.25, ".2f")` is "−0.25" with a real minus sign (U+2212), never the ASCII hyphen;
scientific formats become powers of ten: `number(4.5e-3, ".1e")` is "4.5 × 10⁻³". A chapter
calls `glue_number(name, value, spec)` and writes {glue:text}`name` in its prose, so the
format (and therefore the precision) is chosen once, next to the computation.
"""

from __future__ import annotations

import re

MINUS = "\u2212"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def number(value, spec: str = ".2f") -> str:
    """`value` formatted with the format spec `spec`, typeset for prose.

    - a negative number gets U+2212 (the minus sign), not "-" (the hyphen);
    - "e" formats become "m × 10ⁿ" (exponent without leading zeros or "+");
    - a value that rounds to zero is printed without a sign ("0.00", not "−0.00").
    """
    text = format(value, spec)
    match = re.fullmatch(r"([-+]?[\d.,]+)[eE]([-+]?\d+)", text)
    if match:
        mantissa, exponent = match.groups()
        exponent = str(int(exponent))
        text = mantissa if exponent == "0" else f"{mantissa}\u00a0×\u00a010{exponent.translate(_SUPERSCRIPT)}"
    if text.startswith("-") and not re.search(r"[1-9]", text.split(" ")[0]):
        text = text[1:]  # -0.00 -> 0.00
    return text.replace("-", MINUS) if text.startswith("-") else text


def glue_number(name: str, value, spec: str = ".2f") -> str:
    """Format `value` with `number` and glue the text under `name` (not displayed); returns it."""
    from myst_nb import glue

    text = number(value, spec)
    glue(name, text, display=False)
    return text


def tex(value, spec: str = "g") -> str:
    """`value` for a TeX formula: "-" is typeset as a minus sign by MathJax; "e" formats as powers of ten."""
    text = format(value, spec)
    match = re.fullmatch(r"([-+]?[\d.,]+)[eE]([-+]?\d+)", text)
    if match:
        return f"{match[1]} \\times 10^{{{int(match[2])}}}"
    return text.replace(",", "{,}")


def glue_math(name: str, formula: str) -> str:
    """Glue an inline formula (TeX, without delimiters) under `name`; prose writes {glue}`name`.

    Glued as the HTML Sphinx itself writes for inline math, so the page's MathJax typesets it.
    """
    import html

    from IPython.display import HTML
    from myst_nb import glue

    glue(name, HTML(f'<span class="math notranslate nohighlight">\\({html.escape(formula)}\\)</span>'), display=False)
    return formula
