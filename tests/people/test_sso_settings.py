"""Single sign-on is configured from the environment; a malformed value stops the start with a sentence."""

from numbers_app.people.directory import check_role_map
from tests.dashboard.test_settings import SANDBOX, load_settings, refusal


def test_the_provider_comes_from_the_environment_with_the_secret_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    names = load_settings(
        {
            **SANDBOX,
            "OIDC_ISSUER": "https://login.example.com/realms/acme/",
            "OIDC_CLIENT_ID": "dashboard",
            "OIDC_CLIENT_SECRET_FILE": str(secret),
            "OIDC_NAME": "Acme SSO",
            "OIDC_ROLE_MAP": "dashboard-ops=Operations, dashboard-help=Support",
            "OIDC_REQUIRED": "true",
            "OIDC_BREAK_GLASS_USERS": "rescue",
        }
    )
    assert names["OIDC_ISSUER"] == "https://login.example.com/realms/acme"
    assert names["OIDC_CLIENT_SECRET"] == "s3cret"
    assert names["OIDC_ROLE_MAP"] == {"dashboard-ops": "Operations", "dashboard-help": "Support"}
    assert names["OIDC_CREATE_USERS"] is False and names["OIDC_BREAK_GLASS_USERS"] == ["rescue"]


def test_malformed_values_stop_the_start_with_a_sentence():
    base = {**SANDBOX, "OIDC_ISSUER": "https://login.example.com", "OIDC_CLIENT_ID": "d", "OIDC_CLIENT_SECRET": "s"}
    assert "use claim-value=Role pairs" in refusal({**base, "OIDC_ROLE_MAP": "dashboard-ops"})
    assert "needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET_FILE" in refusal(
        {**SANDBOX, "OIDC_ISSUER": "https://login.example.com"}
    )
    assert "OIDC_REQUIRED=true needs OIDC_ISSUER" in refusal({**SANDBOX, "OIDC_REQUIRED": "true"})
    assert "is not an http(s) URL" in refusal({**base, "OIDC_ISSUER": "login.example.com"})


def test_a_role_map_naming_no_role_fails_the_check(settings):
    settings.OIDC_ROLE_MAP = {"ops": "Operatons"}
    [error] = check_role_map()
    assert "OIDC_ROLE_MAP names roles that do not exist: Operatons" in error.msg
    settings.OIDC_ROLE_MAP = {"ops": "Operations"}
    assert check_role_map() == []
