"""System checks that a deployment is not running on the sandbox's public parts.

The settings already refuse to start without a secret key and a Staffify key of one's own when the
sandbox is off; these say the same of a process that has the sandbox on (or a settings override) and no
DEBUG, under `check --deploy`, at Error level: such a process serves a fake Staffify that anyone may reset
(`/sandbox/control/…`, with a key written in the README).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def sandbox_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    if settings.STAFFIFY_SANDBOX:
        errors.append(
            Error(
                "STAFFIFY_SANDBOX is on in a process without DEBUG: it serves a fake Staffify under /sandbox/ "
                "that anyone may reset with the public demo key.",
                hint="Unset STAFFIFY_SANDBOX (production is the default) and set STAFFIFY_API_KEY to your own key.",
                id="numbers.E001",
            )
        )
    if settings.STAFFIFY_API_KEY in settings.SANDBOX_SEEDED_API_KEYS:
        errors.append(
            Error(
                "STAFFIFY_API_KEY is one of the sandbox's public keys, written in the README.",
                hint="Set STAFFIFY_API_KEY (or STAFFIFY_API_KEY_FILE) to your own Staffify API key.",
                id="numbers.E002",
            )
        )
    return errors
