from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from numbers_app import views_health

urlpatterns = [
    path("healthz", views_health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("numbers_app.urls")),
]

if settings.STAFFIFY_SANDBOX:
    urlpatterns.insert(0, path("sandbox/", include("sandbox.urls")))

handler404 = "numbers_app.views_health.not_found"
handler500 = "numbers_app.views_health.server_error"
