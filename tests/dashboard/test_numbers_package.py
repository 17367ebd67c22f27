"""The app package `numbers` and the standard library's `numbers` both work, in either import order."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_standard_abcs_work_when_the_app_is_found_first():
    import decimal
    import fractions

    import numbers
    import numbers.staffify  # noqa: F401  the app's modules import

    assert isinstance(decimal.Decimal("1.5"), numbers.Number)
    assert isinstance(fractions.Fraction(1, 3), numbers.Rational)
    assert issubclass(int, numbers.Integral)


def test_the_app_imports_when_the_standard_module_came_first(tmp_path):
    # Started from elsewhere, `decimal` pulls in the standard `numbers` before the project is on sys.path.
    code = (
        "import decimal, sys, numbers; assert not hasattr(numbers, '__path__')\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import dashboard, numbers.rules\n"
        "assert isinstance(decimal.Decimal(1), numbers.Number)\n"
        "print(numbers.rules.PRICE_PER_CYCLE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5.00"
