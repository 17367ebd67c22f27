"""A real OpenID Connect provider for the sign-in tests: django-oidc-provider in a small Django
project of its own, served by a subprocess (`serve.py`) on a port of this machine. `tests/people/
provider.py` starts it once per test module and drives its control endpoints (users, their groups,
the client), which stand in for an identity provider's admin console."""
