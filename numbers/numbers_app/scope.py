"""Which Staffify project the code running now works for.

A page under /p/<project>/ (numbers_app.web.projects), a worker task, a command: each says which project
with `using(project)`, and everything below follows it without being told: the models' managers read
and write that project's rows only (numbers_app.models.ProjectScoped), the Staffify client speaks for
it (X-Project-Id, its key), the cached reads keep one copy per project. Outside any `using()` (a shell,
a unit test) the default project (the first configured) is the one.

This module knows nothing of the app (it reads the configured projects' order from settings): it holds
a context variable, so two requests in two threads (two tabs on two projects) never see each other's
project.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse as django_reverse


@dataclass(frozen=True)
class ProjectRef:
    """A project as the code below the pages needs it: its row's pk, its URL slug, its Staffify id
    (None: the one key's own project, not named in the configuration) and its display name."""

    pk: int
    slug: str
    staffify_id: str | None
    name: str


_current: ContextVar[ProjectRef | None] = ContextVar("staffify_project", default=None)


def current() -> ProjectRef | None:
    """The project set by the innermost `using()`, or None outside any."""
    return _current.get()


@contextmanager
def using(project: ProjectRef) -> Iterator[ProjectRef]:
    """Work for PROJECT inside the block (nested blocks restore the outer project on leaving)."""
    token = _current.set(project)
    try:
        yield project
    finally:
        _current.reset(token)


def activate(project: ProjectRef | None) -> object:
    """Set the project until `deactivate(token)` (middleware, which cannot hold a `with` block)."""
    return _current.set(project)


def deactivate(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def slug() -> str:
    """The current project's URL name, else the default (first configured) project's."""
    found = _current.get()
    return found.slug if found is not None else str(settings.STAFFIFY_PROJECTS[0]["slug"])


def reverse(name: str, *args: object) -> str:
    """The URL of the page NAME in the current project (/p/<slug>/…)."""
    return django_reverse(name, args=[slug(), *args])
