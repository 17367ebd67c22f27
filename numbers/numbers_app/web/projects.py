"""The project in the URL: every page of a project's data lives under /p/<project>/, so two tabs on two
projects never mix (each form and htmx request posts to its own project's URL).

- `in_project(view)` (urls.py wraps each project page in it): the project named in the URL, 404 when
  it is not served or the person may not see it (as Staffify answers for another project's
  resources), then the view runs inside it (numbers_app.scope): its queries, its Staffify client, its
  permissions (numbers_app.web.backends) are that project's.
- `legacy(view)`: the URLs from before projects (/, /numbers/42/, /billing/?…). A page opened there is
  redirected to the same page of the person's default project; a form or htmx request from a page
  opened before the upgrade acts in the project that page showed, the first configured one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import wraps

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from numbers_app import scope
from numbers_app.models import NumberRecord, Project
from numbers_app.web.access import HtmxHttpRequest


def may_see(user, project: Project) -> bool:
    """Whether USER may open PROJECT's pages: its role there (a membership, else the global groups)
    lets them see the dashboard."""
    return project.visible_to(user)


def visible_projects(user) -> list[Project]:
    """The served projects USER may see, in the configured order."""
    return [project for project in Project.configured() if may_see(user, project)]


def default_project(user) -> Project:
    """Where someone lands: the first served project they may see (the first one if none)."""
    served = Project.configured()
    return next((project for project in served if may_see(user, project)), served[0])


def _served(slug: str) -> Project:
    found = next((project for project in Project.configured() if project.slug == slug), None)
    if found is None:
        raise Http404("No such project.")
    return found


def _refuse_hidden(request: HtmxHttpRequest, project: Project) -> None:
    """404 for a project the person may not see while they may see another one. Someone with no role
    anywhere meets the pages' own refusal (403: "Your role (no role) cannot see the dashboard")."""
    user = request.user
    if not user.is_authenticated or user.is_superuser or may_see(user, project):
        return
    if any(may_see(user, other) for other in Project.configured() if other.pk != project.pk):
        raise Http404("No such project.")


def _refuse_elsewhere(project: Project, number_id: int | None) -> None:
    """A number the mirror knows in another project is not this one's: 404 before anything is sent (a
    URL or form naming the wrong project). One the mirror does not know is left to Staffify, which
    answers 404 for another project's resources."""
    if (
        number_id is not None
        and NumberRecord.everywhere.filter(staffify_id=number_id).exclude(project=project).exists()
    ):
        raise Http404("No such number in this project.")


def run_in(project: Project, view: Callable[..., HttpResponse], request: HtmxHttpRequest, *args, **kwargs):
    request.project = project  # type: ignore[attr-defined]
    with scope.using(project.ref):
        _refuse_hidden(request, project)
        _refuse_elsewhere(project, kwargs.get("number_id"))
        response = view(request, *args, **kwargs)
    if response.streaming:  # a CSV is read as it is sent, after the view returned: in the same project
        response.streaming_content = _streamed_in(project.ref, response.streaming_content)  # type: ignore[attr-defined]
    return response


def _streamed_in(project: scope.ProjectRef, content: Iterable[bytes]) -> Iterator[bytes]:
    chunks = iter(content)
    while True:
        with scope.using(project):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def in_project(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HtmxHttpRequest, project: str, *args, **kwargs) -> HttpResponse:
        return run_in(_served(project), view, request, *args, **kwargs)

    return wrapped


def legacy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method in ("GET", "HEAD") and not request.htmx:
            target = f"/p/{default_project(request.user).slug}{request.get_full_path()}"
            if url_has_allowed_host_and_scheme(target, allowed_hosts=None):
                return HttpResponseRedirect(target)
        return run_in(Project.configured()[0], view, request, *args, **kwargs)

    return wrapped
