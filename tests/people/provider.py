"""The test identity provider (tests/oidc_provider), started as a real process once per test module,
and a person's trip through it (what a browser does between the dashboard and the provider)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "staffify-dashboard"
CLIENT_SECRET = "test-client-secret-" + "z" * 20
ROLE_MAP = {"dash-ops": "Operations", "dash-support": "Support", "dash-leads": "Team lead"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Provider:
    url: str
    process: subprocess.Popen

    @property
    def issuer(self) -> str:
        return f"{self.url}/openid"

    def put_user(self, username: str, groups: list[str], *, expired: bool = False, nonce: str = "") -> str:
        """Makes or changes USERNAME (password "pw-USERNAME", e-mail USERNAME@example.com); its subject."""
        answer = httpx.post(
            f"{self.url}/control/user",
            json={
                "username": username,
                "password": f"pw-{username}",
                "email": f"{username}@example.com",
                "groups": groups,
                "expired": expired,
                "nonce": nonce,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()["sub"]

    def put_client(self, redirect_uris: list[str]) -> None:
        answer = httpx.post(
            f"{self.url}/control/client",
            json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris},
            timeout=10,
        )
        answer.raise_for_status()


def start(tmp_dir: Path) -> Provider:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve", str(port), str(tmp_dir / "provider.sqlite3")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.strip() == "ready":
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(60):
        process.kill()
        raise AssertionError("the test identity provider did not start:\n" + "".join(lines))
    return Provider(url=f"http://127.0.0.1:{port}", process=process)


def stop(provider: Provider) -> None:
    provider.process.terminate()
    provider.process.wait(10)


def dashboard_settings(settings, provider: Provider, **overrides) -> None:
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_NAME = "Test IdP"
    settings.OIDC_SCOPES = "openid email profile groups"
    settings.OIDC_ROLE_CLAIM = "groups"
    settings.OIDC_ROLE_MAP = dict(ROLE_MAP)
    settings.OIDC_CREATE_USERS = True
    settings.OIDC_REQUIRED = False
    settings.OIDC_BREAK_GLASS_USERS = []
    settings.OIDC_SESSION_HOURS = 12.0
    for name, value in overrides.items():
        setattr(settings, name, value)


def through_provider(authorize_url: str, username: str) -> str:
    """What the browser does at the provider: follow the authorization request to its login form, sign
    in there, and come back with the redirect to the dashboard's callback (returned, not followed)."""
    with httpx.Client(timeout=10) as browser:
        answer = browser.get(authorize_url)
        assert answer.status_code == 302, answer.text
        login_url = httpx.URL(authorize_url).join(answer.headers["location"])
        form = browser.get(login_url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        next_url = re.search(r'name="next" value="([^"]+)"', form.text).group(1).replace("&amp;", "&")
        answer = browser.post(
            login_url,
            data={"csrfmiddlewaretoken": token, "username": username, "password": f"pw-{username}", "next": next_url},
        )
        assert answer.status_code == 302, answer.text
        answer = browser.get(login_url.join(answer.headers["location"]))
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]
