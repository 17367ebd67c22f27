from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from numbers import views_health

urlpatterns = [
    path("healthz", views_health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("numbers.urls")),
]

if settings.STAFFIFY_SANDBOX:
    urlpatterns.insert(0, path("sandbox/", include("sandbox.urls")))

handler404 = "numbers.views_health.not_found"
handler500 = "numbers.views_health.server_error"
