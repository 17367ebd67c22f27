"""The numbers for sale: a pure, deterministic function of country, type and area or city code.

Each block (say NL local 020) holds BLOCK_SIZE numbers drawn from a SHA-256 sequence and kept only
when libphonenumber agrees they are valid numbers of that country and type. Nothing here touches
the database: the views remove owned numbers before answering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberType

LOCAL, MOBILE, TOLL_FREE = "local", "mobile", "toll_free"
NUMBER_TYPES = (LOCAL, MOBILE, TOLL_FREE)
BLOCK_SIZE = 150
US_CA = frozenset({"US", "CA"})


@dataclass(frozen=True)
class Block:
    country: str
    number_type: str
    code: str  # the area code (US/CA) or city code (elsewhere) a search names; "" when none applies
    prefix: str  # national digits after the country calling code, e.g. "20" for Amsterdam
    digits: int  # subscriber digits after the prefix
    first: str  # allowed first subscriber digits
    locality: str
    pinned: tuple[str, ...] = ()  # the docs' own examples, so their curl lines work here


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    calling_code: str
    requires_address: bool
    # Local numbers need the address's city_code (documented for DE and ES).
    local_presence: bool


@dataclass(frozen=True)
class Candidate:
    phone_number: str
    country_code: str
    number_type: str
    locality: str
    code: str

    def as_json(self) -> dict[str, str]:
        data = {
            "phone_number": self.phone_number,
            "country_code": self.country_code,
            "number_type": self.number_type,
            "locality": self.locality,
        }
        if self.code:
            data["area_code" if self.country_code in US_CA else "city_code"] = self.code
        return data


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in [
        Country("US", "United States", "1", requires_address=False, local_presence=False),
        Country("CA", "Canada", "1", requires_address=False, local_presence=False),
        Country("NL", "Netherlands", "31", requires_address=True, local_presence=False),
        Country("DE", "Germany", "49", requires_address=True, local_presence=True),
        Country("ES", "Spain", "34", requires_address=True, local_presence=True),
        Country("FR", "France", "33", requires_address=True, local_presence=False),
        Country("GB", "United Kingdom", "44", requires_address=True, local_presence=False),
    ]
}

_NXX = "23456789"
BLOCKS: tuple[Block, ...] = (
    Block("US", LOCAL, "415", "415", 7, _NXX, "San Francisco", pinned=("+14155551234",)),
    Block("US", LOCAL, "212", "212", 7, _NXX, "New York"),
    Block("US", LOCAL, "312", "312", 7, _NXX, "Chicago"),
    Block("US", LOCAL, "512", "512", 7, _NXX, "Austin"),
    Block("US", TOLL_FREE, "800", "800", 7, _NXX, "United States"),
    Block("US", TOLL_FREE, "888", "888", 7, _NXX, "United States"),
    Block("CA", LOCAL, "416", "416", 7, _NXX, "Toronto"),
    Block("CA", LOCAL, "604", "604", 7, _NXX, "Vancouver"),
    Block("CA", LOCAL, "514", "514", 7, _NXX, "Montreal"),
    Block("CA", TOLL_FREE, "877", "877", 7, _NXX, "Canada"),
    Block("NL", LOCAL, "020", "20", 7, "2345678", "Amsterdam", pinned=("+31204567890",)),
    Block("NL", LOCAL, "010", "10", 7, "2345678", "Rotterdam"),
    Block("NL", LOCAL, "070", "70", 7, "2345678", "Den Haag"),
    Block("NL", LOCAL, "030", "30", 7, "2345678", "Utrecht"),
    Block("NL", MOBILE, "", "6", 8, "12345", "Netherlands"),
    Block("NL", TOLL_FREE, "", "800", 7, "0123456789", "Netherlands"),
    Block("DE", LOCAL, "030", "30", 8, "123456789", "Berlin"),
    Block("DE", LOCAL, "040", "40", 8, "123456789", "Hamburg"),
    Block("DE", LOCAL, "089", "89", 8, "123456789", "München"),
    Block("DE", LOCAL, "069", "69", 8, "123456789", "Frankfurt am Main"),
    Block("DE", MOBILE, "", "151", 8, "0123456789", "Germany"),
    Block("DE", MOBILE, "", "170", 7, "0123456789", "Germany"),
    Block("DE", TOLL_FREE, "", "800", 7, "0123456789", "Germany"),
    Block("ES", LOCAL, "91", "91", 7, "0123456789", "Madrid"),
    Block("ES", LOCAL, "93", "93", 7, "0123456789", "Barcelona"),
    Block("ES", LOCAL, "96", "96", 7, "0123456789", "Valencia"),
    Block("ES", MOBILE, "", "6", 8, "0123456789", "Spain"),
    Block("ES", TOLL_FREE, "", "900", 6, "0123456789", "Spain"),
    Block("FR", LOCAL, "01", "1", 8, "0123456789", "Paris"),
    Block("FR", LOCAL, "04", "4", 8, "0123456789", "Lyon"),
    Block("FR", LOCAL, "05", "5", 8, "0123456789", "Bordeaux"),
    Block("FR", MOBILE, "", "6", 8, "0123456789", "France"),
    Block("FR", TOLL_FREE, "", "800", 6, "0123456789", "France"),
    Block("GB", LOCAL, "020", "20", 8, "378", "London"),
    Block("GB", LOCAL, "0161", "161", 7, "2345678", "Manchester"),
    Block("GB", LOCAL, "0131", "131", 7, "2345678", "Edinburgh"),
    Block("GB", MOBILE, "", "7", 9, "4579", "United Kingdom"),
    Block("GB", TOLL_FREE, "", "800", 7, "0123456789", "United Kingdom"),
)

_WANTED_TYPES = {
    LOCAL: {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    MOBILE: {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    TOLL_FREE: {PhoneNumberType.TOLL_FREE},
}


def is_plausible(e164: str, country: str, number_type: str) -> bool:
    """libphonenumber's view: a valid number of this country (toll-free +1 is shared) and type."""
    parsed = phonenumbers.parse(e164)
    if not phonenumbers.is_valid_number(parsed):
        return False
    if number_type != TOLL_FREE and phonenumbers.region_code_for_number(parsed) != country:
        return False
    return phonenumbers.number_type(parsed) in _WANTED_TYPES[number_type]


def _digit_string(seed: int, block: Block) -> str:
    first = block.first[seed % len(block.first)]
    rest = (seed // len(block.first)) % 10 ** (block.digits - 1)
    return first + str(rest).zfill(block.digits - 1)


@cache
def block_numbers(block: Block) -> tuple[str, ...]:
    """The block's numbers in their fixed order: pinned examples first, then the hash sequence."""
    start = "+" + COUNTRIES[block.country].calling_code + block.prefix
    numbers = list(block.pinned)
    seen = set(numbers)
    index = 0
    while len(numbers) < BLOCK_SIZE:
        if index > BLOCK_SIZE * 50:  # a block whose pattern libphonenumber never accepts
            raise ValueError(f"inventory block {block} yields too few valid numbers")
        material = f"{block.country}:{block.number_type}:{block.prefix}:{index}".encode()
        seed = int.from_bytes(hashlib.sha256(material).digest()[:8], "big")
        candidate = start + _digit_string(seed, block)
        index += 1
        if candidate not in seen and is_plausible(candidate, block.country, block.number_type):
            seen.add(candidate)
            numbers.append(candidate)
    return tuple(numbers)


@cache
def _block_set(block: Block) -> frozenset[str]:
    return frozenset(block_numbers(block))


def _candidate(block: Block, e164: str) -> Candidate:
    return Candidate(e164, block.country, block.number_type, block.locality, block.code)


def blocks_for(country: str, number_type: str, code: str | None = None) -> list[Block]:
    return [
        b for b in BLOCKS if b.country == country and b.number_type == number_type and (code is None or b.code == code)
    ]


def search(
    country: str,
    number_type: str,
    code: str | None = None,
    contains: str | None = None,
    exclude: Iterable[str] = (),
    limit: int = 20,
) -> list[Candidate]:
    """Available numbers, taking the blocks in turn so that a search without a code mixes them."""
    excluded = set(exclude)
    streams = [
        [n for n in block_numbers(b) if n not in excluded and (not contains or contains in n[1:])]
        for b in blocks_for(country, number_type, code)
    ]
    blocks = blocks_for(country, number_type, code)
    found: list[Candidate] = []
    for position in range(BLOCK_SIZE):
        for block, stream in zip(blocks, streams, strict=True):
            if position < len(stream):
                found.append(_candidate(block, stream[position]))
                if len(found) >= limit:
                    return found
    return found


def find(e164: str) -> Candidate | None:
    """The inventory entry for this exact number, or None if the sandbox never sells it."""
    for block in BLOCKS:
        start = "+" + COUNTRIES[block.country].calling_code + block.prefix
        if e164.startswith(start) and len(e164) == len(start) + block.digits and e164 in _block_set(block):
            return _candidate(block, e164)
    return None


def types_offered(country: str) -> list[str]:
    return [t for t in NUMBER_TYPES if blocks_for(country, t)]
