from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.oidc_provider import control

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("control/user", control.put_user),
    path("control/client", control.put_client),
    path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
]
