"""The dashboard app: pages, the Staffify service module, and what Staffify does not remember.

The customer's layout names this package `numbers`, which is also the name of a standard-library
module (the numeric ABCs that `decimal` and `fractions` register with). Whichever of the two Python
finds first must serve both purposes, so:

- when this package is found first, it runs the standard module's code here, so `numbers.Number`
  and friends are the real ABCs for everyone;
- when the standard module was imported first (a tool imported `decimal` before the project was on
  sys.path), `dashboard/__init__.py` gives that module this folder as its `__path__`, so
  `numbers.views` and the rest still import.

tests/test_numbers_package.py proves both orders.
"""

import sysconfig
from pathlib import Path

_STDLIB_NUMBERS = Path(sysconfig.get_path("stdlib")) / "numbers.py"
exec(compile(_STDLIB_NUMBERS.read_text(), str(_STDLIB_NUMBERS), "exec"))  # noqa: S102  the standard module, see above
