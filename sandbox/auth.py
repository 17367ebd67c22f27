"""API keys: Bearer or X-Api-Key, the documented format, scopes, org keys, and brute-force limits."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.http import HttpRequest

from .errors import ApiError
from .models import ApiKey, AuthFailure, Project

KEY_RE = re.compile(r"^sfy_(live|org)_[0-9a-f]{48}$")
PROJECT_ID_RE = re.compile(r"^proj_[A-Za-z0-9_]{1,34}$")
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 100
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Caller:
    project: Project
    key: ApiKey

    @property
    def can_write(self) -> bool:
        return self.key.scope == ApiKey.WRITE


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _presented_key(request: HttpRequest) -> str | None:
    """The key from either header; None when neither carries one."""
    header_key = request.headers.get("X-Api-Key", "").strip() or None
    authorization = request.headers.get("Authorization", "").strip()
    bearer_key = None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "INVALID_API_KEY", "The Authorization header must be 'Bearer <key>'.")
        bearer_key = token.strip()
    if bearer_key and header_key and bearer_key != header_key:
        raise ApiError(401, "INVALID_API_KEY", "Authorization and X-Api-Key carry different keys.")
    return bearer_key or header_key


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _resolve(request: HttpRequest) -> Caller:
    key = _presented_key(request)
    if not key:
        raise ApiError(401, "MISSING_API_KEY", "Send your key as 'Authorization: Bearer <key>' or X-Api-Key.")
    if not KEY_RE.match(key):
        raise ApiError(
            401,
            "INVALID_API_KEY",
            "Malformed API key: sfy_live_ or sfy_org_ and 48 lowercase hex characters.",
        )
    api_key = ApiKey.objects.select_related("project").filter(key_hash=hash_key(key), revoked=False).first()
    if api_key is None:
        raise ApiError(401, "INVALID_API_KEY", "Unknown or revoked API key.")

    wanted = request.headers.get("X-Project-Id", "").strip()
    if wanted and not PROJECT_ID_RE.match(wanted):
        raise ApiError(400, "INVALID_PROJECT_ID", "X-Project-Id must look like proj_….")
    if api_key.kind == ApiKey.ORG:
        if not wanted:
            raise ApiError(400, "MISSING_PROJECT_ID", "An sfy_org_ key needs an X-Project-Id: proj_… header.")
        project = Project.objects.filter(pk=wanted, org_id=api_key.org_id).first()
        if project is None:
            raise ApiError(403, "PROJECT_FORBIDDEN", f"This key's organisation has no project {wanted}.")
        return Caller(project, api_key)
    assert api_key.project is not None
    if wanted and wanted != api_key.project_id:
        raise ApiError(403, "PROJECT_FORBIDDEN", f"This key belongs to another project than {wanted}.")
    return Caller(api_key.project, api_key)


def authenticate(request: HttpRequest, moment: datetime) -> Caller:
    """The caller, or ApiError. Every 401 is recorded against the client's IP address."""
    ip = _client_ip(request)
    since = moment - FAILURE_WINDOW
    failures = AuthFailure.objects.filter(ip=ip, at__gt=since)
    if failures.count() >= MAX_FAILURES:
        oldest = failures.order_by("at").values_list("at", flat=True)[0]
        retry_after = max(1, math.ceil((oldest + FAILURE_WINDOW - moment).total_seconds()))
        raise ApiError(
            429,
            "AUTH_RATE_LIMITED",
            "Too many failed authentications from this address; try again later.",
            extra={"retryAfter": retry_after},
        )
    try:
        return _resolve(request)
    except ApiError as error:
        if error.status == 401:
            AuthFailure.objects.filter(ip=ip, at__lte=since).delete()
            AuthFailure.objects.create(ip=ip, at=moment)
        raise


def require_write(caller: Caller, method: str) -> None:
    if method in WRITE_METHODS and not caller.can_write:
        raise ApiError(403, "READ_ONLY_KEY", "This key has read scope; it cannot change anything.")
