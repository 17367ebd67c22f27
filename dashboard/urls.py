from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import include, path

from numbers_app.urls import admin_login, signin_urlpatterns
from numbers_app.web import health as views_health

# Password reset sends mail: without mail configured (EMAIL_URL), its pages do not exist at all.
account_urls = [
    pattern
    for pattern in auth_urls.urlpatterns
    if settings.PASSWORD_RESET_ENABLED or not (getattr(pattern, "name", None) or "").startswith("password_reset")
]

urlpatterns = [
    path("healthz", views_health.healthz, name="healthz"),
    path("readyz", views_health.readyz, name="readyz"),
    path("metrics", views_health.metrics, name="metrics"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("accounts/", include(signin_urlpatterns)),
    path("accounts/", include(account_urls)),
    path("", include("numbers_app.urls")),
]

if settings.STAFFIFY_SANDBOX:
    urlpatterns.insert(0, path("sandbox/", include("sandbox.urls")))

handler404 = "numbers_app.web.health.not_found"
handler500 = "numbers_app.web.health.server_error"
