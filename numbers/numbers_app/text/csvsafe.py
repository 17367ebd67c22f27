"""CSV cells that a spreadsheet will not run as formulas (OWASP: prefix a quote), while plain numbers
and E.164 phone numbers, which no spreadsheet can run, stay as they are."""

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HARMLESS = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not HARMLESS.match(text):
        return "'" + text
    return text


def safe_row(values) -> list[str]:
    return [safe_cell(v) for v in values]
