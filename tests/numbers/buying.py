"""Steps of the buying flow that several test modules take: find a number, open its confirmation,
send the confirmed purchase, and read the sandbox's view of the result."""

import re

from tests.helpers import HX


def search(sandbox, **params) -> list[dict]:
    return sandbox.get("/v1/phone-numbers/search", params=params).json()["numbers"]


def owned(sandbox) -> dict[str, dict]:
    return {n["phone_number"]: n for n in sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]}


def balance(sandbox) -> float:
    return sandbox.get("/v1/credits").json()["balance"]


def confirm(client, number: dict, **extra) -> str:
    """The confirmation dialog's HTML for a search result."""
    params = {
        "phone_number": number["phone_number"],
        "country_code": number["country_code"],
        "number_type": number["number_type"],
        "city_code": number.get("city_code") or "",
        **extra,
    }
    return client.get("/p/main/buy/confirm", params, headers=HX).content.decode()


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([0-9a-f-]+)"', html).group(1)


def buy(client, number: dict, token: str, **form):
    """POST the confirmed purchase of a search result, as the dialog's form does."""
    data = {
        "token": token,
        "phone_number": number["phone_number"],
        "country_code": number["country_code"],
        "number_type": number["number_type"],
        **form,
    }
    return client.post("/p/main/buy/purchase", data, headers=HX)
