"""What an identity provider's admin console would do, as JSON endpoints for the tests: put a user
(password, e-mail, groups) and the dashboard's client (secret, redirect URIs). Also the claims: a
`groups` scope, and per-user tweaks of the ID token that a faulty or hostile provider could send (an
expired one, one with another nonce)."""

import json

from django.contrib.auth.models import Group, User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oidc_provider.lib.claims import ScopeClaims
from oidc_provider.models import Client, ResponseType

# username -> {"expired": bool, "nonce": str}: read by tweak_id_token. One process serves the provider.
TWEAKS: dict[str, dict] = {}


class GroupsScopeClaims(ScopeClaims):
    info_groups = ("Groups", "The groups you belong to.")

    def scope_groups(self):
        return {"groups": sorted(self.user.groups.values_list("name", flat=True))}


def subject(user) -> str:
    return f"sub-{user.username}"


def tweak_id_token(id_token, user, **kwargs):
    tweak = TWEAKS.get(user.username, {})
    if tweak.get("expired"):
        id_token["exp"] = id_token["iat"] - 120
        id_token["iat"] -= 900
    if tweak.get("nonce"):
        id_token["nonce"] = tweak["nonce"]
    return id_token


@csrf_exempt
def put_user(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    user, _ = User.objects.get_or_create(username=data["username"])
    user.email = data.get("email", "")
    user.first_name = data.get("first_name", "")
    user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data.get("groups", [])])
    TWEAKS[user.username] = {"expired": data.get("expired", False), "nonce": data.get("nonce", "")}
    return JsonResponse({"sub": subject(user)})


@csrf_exempt
def put_client(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    client, _ = Client.objects.get_or_create(
        client_id=data["client_id"], defaults={"name": "Staffify numbers dashboard"}
    )
    client.client_type = "confidential"
    client.client_secret = data["client_secret"]
    client.jwt_alg = "RS256"
    client.require_consent = False
    client.reuse_consent = True
    client.redirect_uris = data["redirect_uris"]
    client.save()
    client.response_types.set([ResponseType.objects.get(value="code")])
    return JsonResponse({"client_id": client.client_id})
