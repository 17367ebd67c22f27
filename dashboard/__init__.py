"""The Django project: settings, URLs and the WSGI/ASGI entry points.

See numbers/__init__.py for why this fixes up the standard-library `numbers` module: when a tool
imported the standard module before the project root was on sys.path, this makes the dashboard app
(the `numbers/` folder) importable beside it.
"""

import sys
from pathlib import Path

_APP_DIR = str(Path(__file__).resolve().parent.parent / "numbers")
_numbers = sys.modules.get("numbers")
if _numbers is not None and not hasattr(_numbers, "__path__"):
    _numbers.__path__ = [_APP_DIR]
