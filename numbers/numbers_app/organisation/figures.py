"""The organisation's figures across projects, from the mirror (no Staffify call but the balance).

Each project's totals are computed inside that project (numbers_app.scope), exactly as its own billing
page computes them; the organisation's total is their sum. The runway is the shared balance's: every
served project's renewals draw on it, so it is computed over all of them, whoever looks.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from numbers_app import scope
from numbers_app.billing import statement
from numbers_app.models import NumberRecord, Project

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class ProjectFigures:
    project: Project
    totals: statement.Totals


def served_projects() -> list[Project]:
    return Project.configured()


def served_numbers() -> QuerySet[NumberRecord]:
    """Every served project's owned numbers: what the shared balance pays for."""
    return NumberRecord.everywhere.filter(gone_at__isnull=True, project__in=[p.pk for p in Project.configured()])


def per_project(projects: list[Project], now: datetime) -> list[ProjectFigures]:
    found = []
    for project in projects:
        with scope.using(project.ref):
            owned = NumberRecord.objects.filter(gone_at__isnull=True)
            found.append(ProjectFigures(project, statement.totals(owned, now, statement.oldest_charge(owned))))
    return found


def total(figures: list[ProjectFigures]) -> statement.Totals:
    """The sum of the projects' totals, figure by figure."""
    return statement.Totals(
        **{f.name: sum(getattr(item.totals, f.name) for item in figures) for f in fields(statement.Totals)}
    )


@dataclass(frozen=True)
class Runway:
    """When the shared balance runs out with no top-up: `at` net of the scheduled releases (numbers
    released before their next charge are never charged again), `gross` as if none were made (None
    when no release is waiting, or it changes nothing), and the totals `at` counted (undated numbers
    make the date the earliest possible)."""

    at: datetime | None
    counted: statement.Totals
    gross: datetime | None = None


def runway(balance: Decimal, now: datetime) -> Runway:
    """The runway over every served project's renewals, net of every served project's scheduled releases."""
    owned = served_numbers()
    projects = [p.pk for p in served_projects()]
    # Each project's oldest charge from its own index (project, gone_at, next_charge_at): a MIN over
    # several projects at once read every dated row (16 ms at 100,000 numbers).
    oldest = min(
        (found for pk in projects if (found := statement.oldest_charge(owned.filter(project=pk))) is not None),
        default=None,
    )
    totals = statement.totals(owned, now, oldest)
    gross = statement.runway(balance, owned, totals, now, oldest, projects=projects)
    if not statement.releasing_anywhere(now, projects).exists():
        return Runway(gross, totals)
    net = statement.net_totals(totals, owned, now, oldest)
    at = statement.runway(balance, owned, net, now, oldest, releases_netted=True, projects=projects)
    return Runway(at, net, gross if gross != at else None)


def find(projects: list[Project], digits: str) -> list[NumberRecord]:
    """Owned numbers whose digits contain DIGITS, in PROJECTS, each with its `project` loaded."""
    return list(
        NumberRecord.everywhere.filter(
            project__in=[p.pk for p in projects], gone_at__isnull=True, phone_number__contains=digits
        )
        .select_related("project")
        .order_by("phone_number", "staffify_id")[:SEARCH_LIMIT]
    )
