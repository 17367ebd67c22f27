"""Per-request accounting of Staffify calls, reported in a Server-Timing header.

The benchmark (bench/pages.py) and the browser's dev tools read it: how many Staffify calls a page
made, how long they took, and how long the dashboard itself spent (total minus Staffify).
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from numbers.staffify import track_calls


class StaffifyTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/sandbox/") or request.path.startswith("/static/"):
            return self.get_response(request)
        started = time.perf_counter()
        with track_calls() as stats:
            response = self.get_response(request)
        total_ms = (time.perf_counter() - started) * 1000
        staffify_ms = stats.seconds * 1000
        response["Server-Timing"] = (
            f'staffify;dur={staffify_ms:.1f};desc="{stats.calls} calls", '
            f"app;dur={max(total_ms - staffify_ms, 0):.1f}, total;dur={total_ms:.1f}"
        )
        return response
