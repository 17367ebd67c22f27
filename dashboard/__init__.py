"""The Django project: settings, URLs and the WSGI/ASGI entry points.

The dashboard app lives in the customer's top-level `numbers/` folder as the package `numbers_app`.
`numbers/` itself is a plain folder, never a package, so `import numbers` is always the standard
library's module. Every way of starting the project (manage.py, gunicorn, pytest, the worker) imports
this package first, so this is the one place that puts `numbers/` on the import path; the tools that
read code without running it (pytest, mypy, ruff) are told the same in pyproject.toml.
"""

import sys
from pathlib import Path

APP_ROOT = str(Path(__file__).resolve().parent.parent / "numbers")
if APP_ROOT not in sys.path:
    sys.path.insert(1, APP_ROOT)
