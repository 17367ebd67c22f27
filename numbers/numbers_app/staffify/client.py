"""StaffifyClient: one method per Staffify endpoint, each returning typed results (numbers_app.staffify.models)
or raising a StaffifyError, and the iterators that walk the cursor-paginated lists."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from numbers_app.staffify.models import (
    Address,
    AddressDocument,
    AddressRequirements,
    AddressStatus,
    Agent,
    Assignment,
    AvailableNumber,
    Country,
    CreatedAddress,
    Credits,
    NumberPage,
    PhoneNumber,
    Purchase,
    Reclaim,
    Release,
    _AgentPage,
    _parse_addresses,
    _parse_agent_page,
    _parse_countries,
    _parse_number,
    _parse_number_page,
    _parse_optional_number,
    _parse_search,
)
from numbers_app.staffify.transport import _READ, BaseClient

# One logger for the whole client, named as before the package split: log lines and filters keep it.
logger = logging.getLogger("numbers_app.staffify")


class StaffifyClient(BaseClient):
    """A Staffify API client over one shared, thread-safe httpx.Client."""

    def __repr__(self) -> str:
        return f"StaffifyClient(base_url={self.base_url!r}, project_id={self.project_id!r})"

    # --- reads --------------------------------------------------------------------------------

    def search_numbers(
        self,
        *,
        country_code: str = "US",
        number_type: str = "local",
        area_code: str | None = None,
        city_code: str | None = None,
        contains: str | None = None,
        limit: int | None = None,
    ) -> list[AvailableNumber]:
        params = {
            "country_code": country_code,
            "type": number_type,
            "area_code": area_code,
            "city_code": city_code,
            "contains": contains,
            "limit": limit,
        }
        return self._call("GET", "/phone-numbers/search", _parse_search, params=params)

    def list_numbers(self, *, after: int | str | None = None, limit: int | None = None) -> NumberPage:
        params = {"after": after, "limit": limit}
        return self._call("GET", "/phone-numbers", _parse_number_page, params=params)

    def iter_numbers(self, *, page_size: int = 100) -> Iterator[PhoneNumber]:
        """Every owned number, fetching page after page as the caller iterates."""
        return self._walk(lambda after: self.list_numbers(after=after, limit=page_size), "/phone-numbers")

    def get_number(self, number_id: int) -> PhoneNumber:
        return self._call("GET", f"/phone-numbers/{_path_id(number_id)}", _parse_number)

    def countries(self) -> list[Country]:
        return self._call("GET", "/phone-numbers/countries", _parse_countries)

    def list_agents(self, *, after: int | str | None = None, limit: int | None = None) -> _AgentPage:
        """One page of agents (the mirror's sync walks them a page at a time, pacing itself)."""
        return self._call("GET", "/agents", _parse_agent_page, params={"after": after, "limit": limit})

    def iter_agents(self, *, page_size: int = 100) -> Iterator[Agent]:
        return self._walk(lambda after: self.list_agents(after=after, limit=page_size), "/agents")

    def agents(self) -> list[Agent]:
        """Every agent, all pages."""
        return list(self.iter_agents())

    def addresses(self) -> list[Address]:
        """Not documented by Staffify (a sandbox choice): expect a NotFoundError where it is absent."""
        return self._call("GET", "/addresses", _parse_addresses)

    def address_requirements(self, country: str) -> AddressRequirements:
        return self._call("GET", "/addresses/requirements", AddressRequirements.from_api, params={"country": country})

    def credits(self) -> Credits:
        return self._call("GET", "/credits", Credits.from_api)

    # --- writes -------------------------------------------------------------------------------

    def purchase_number(
        self,
        phone_number: str,
        *,
        country_code: str = "US",
        number_type: str = "local",
        address_id: int | None = None,
        city_code: str | None = None,
    ) -> Purchase:
        body: dict[str, Any] = {
            "phone_number": phone_number,
            "country_code": country_code,
            "number_type": number_type,
        }
        if address_id is not None:
            body["address_id"] = address_id
        if city_code is not None:
            body["city_code"] = city_code
        return self._call("POST", "/phone-numbers", Purchase.from_api, json=body)

    def set_tags(self, number_id: int, tags: list[str]) -> PhoneNumber | None:
        """Replace the tags. The number as Staffify now has it, or None if the answer has none."""
        if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
            raise TypeError("tags must be a list of strings.")
        path = f"/phone-numbers/{_path_id(number_id)}"
        return self._call("PATCH", path, _parse_optional_number, json={"tags": list(tags)})

    def assign(self, number_id: int, agent_id: int) -> Assignment:
        path = f"/phone-numbers/{_path_id(number_id)}/assign"
        return self._call("PUT", path, Assignment.from_api, json={"agent_id": agent_id})

    def unassign(self, number_id: int) -> None:
        self._request("DELETE", f"/phone-numbers/{_path_id(number_id)}/assign")

    def release(self, number_id: int) -> Release:
        return self._call("DELETE", f"/phone-numbers/{_path_id(number_id)}", Release.from_api)

    def reclaim(self, number_id: int) -> Reclaim:
        return self._call("POST", f"/phone-numbers/{_path_id(number_id)}/reclaim", Reclaim.from_api)

    # The address workflow. Creating, uploading and submitting are sent once (a repeat would create a
    # second address, upload the document twice, or meet ALREADY_SUBMITTED); check-status only reads.

    def create_address(
        self,
        *,
        street_address: str,
        city: str,
        postal_code: str,
        country_code: str,
        contact_name: str,
        contact_email: str,
        contact_phone: str,
        company_name: str | None = None,
        city_code: str | None = None,
    ) -> CreatedAddress:
        body: dict[str, Any] = {
            "street_address": street_address,
            "city": city,
            "postal_code": postal_code,
            "country_code": country_code,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "contact_phone": contact_phone,
        }
        if company_name:
            body["company_name"] = company_name
        if city_code:
            body["city_code"] = city_code
        return self._call("POST", "/addresses", CreatedAddress.from_api, json=body)

    def upload_address_document(
        self, address_id: int, *, document_type: str, filename: str, content: bytes, content_type: str
    ) -> AddressDocument:
        """POST the file as multipart/form-data (`file` and `document_type`)."""
        path = f"/addresses/{_path_id(address_id)}/documents"
        return self._call(
            "POST",
            path,
            lambda data: AddressDocument.from_api(data, address_id=address_id, document_type=document_type),
            data={"document_type": document_type},
            files={"file": (filename, content, content_type)},
        )

    def submit_address(self, address_id: int) -> AddressStatus:
        """Send the address to the carrier for review. Cannot be undone."""
        path = f"/addresses/{_path_id(address_id)}/submit"
        return self._call("POST", path, lambda data: AddressStatus.from_api(data, address_id=address_id))

    def check_address_status(self, address_id: int) -> AddressStatus:
        """The address's verification status. A POST, but it changes nothing: retried like a read."""
        path = f"/addresses/{_path_id(address_id)}/check-status"
        return self._call("POST", path, lambda data: AddressStatus.from_api(data, address_id=address_id), policy=_READ)

    # --- pagination ---------------------------------------------------------------------------

    def _walk(self, fetch: Callable[[Any], NumberPage | _AgentPage], path: str) -> Iterator[Any]:
        seen: set[int | str] = set()
        after = None
        while True:
            page = fetch(after)
            items, cursor = page.items, page.next_cursor
            yield from items
            if cursor is None or not items:
                return
            if cursor in seen:
                # A cursor we already followed would loop forever: stop rather than hang the page.
                logger.warning("Staffify repeated the cursor %r on %s; stopped paging there.", cursor, path)
                return
            seen.add(cursor)
            after = cursor


def _path_id(number_id: int) -> int:
    """An id for a URL path: a whole number, never text that could change the path."""
    if isinstance(number_id, bool):
        raise TypeError("A Staffify id must be a whole number.")
    if isinstance(number_id, str) and number_id.isdigit():
        return int(number_id)
    if not isinstance(number_id, int):
        raise TypeError("A Staffify id must be a whole number.")
    return number_id
