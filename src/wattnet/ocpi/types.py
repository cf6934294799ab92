"""OCPI 2.2.1 base types (spec ``types.asciidoc``) as pydantic annotated types and enums.

``CiString(n)``: printable ASCII, at most n characters; ``string(n)``: printable UTF-8 (no control
characters), at most n; ``DateTime``: RFC 3339 in UTC, ``Z`` optional, fractional seconds allowed
(kept as the string it arrived as, so objects round-trip exactly); ``URL``: string(255).
Every model ignores unknown fields (OCPI objects grow between versions) and drops unset optional
fields when dumped (``dump``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

_CI = r"^[\x20-\x7e]*$"
_TEXT = r"^[^\x00-\x1f\x7f]*$"
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?$")


def _ci(n: int) -> Any:
    return StringConstraints(max_length=n, pattern=_CI)


def _s(n: int) -> Any:
    return StringConstraints(max_length=n, pattern=_TEXT)


CiString2 = Annotated[str, _ci(2)]
CiString3 = Annotated[str, _ci(3)]
CiString4 = Annotated[str, _ci(4)]
CiString32 = Annotated[str, _ci(32)]
CiString36 = Annotated[str, _ci(36)]
CiString39 = Annotated[str, _ci(39)]
CiString48 = Annotated[str, _ci(48)]
String2 = Annotated[str, _s(2)]
String3 = Annotated[str, _s(3)]
String4 = Annotated[str, _s(4)]
String5 = Annotated[str, _s(5)]
String10 = Annotated[str, _s(10)]
String16 = Annotated[str, _s(16)]
String20 = Annotated[str, _s(20)]
String45 = Annotated[str, _s(45)]
String64 = Annotated[str, _s(64)]
String100 = Annotated[str, _s(100)]
String255 = Annotated[str, _s(255)]
String512 = Annotated[str, _s(512)]
String5000 = Annotated[str, _s(5000)]
URL = String255
DateTime = Annotated[str, StringConstraints(max_length=25, pattern=DATETIME_RE.pattern)]
Latitude = Annotated[str, StringConstraints(max_length=10, pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, StringConstraints(max_length=11,
                                             pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Date = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
# The OCPI token a party uses in ``Authorization: Token``: string(64), ASCII, case sensitive.
CredentialsToken = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                                    pattern=r"^[\x21-\x7e]+$")]


class OcpiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    def dump(self) -> dict[str, Any]:
        """The JSON object, without the optional fields that were not given."""
        return self.model_dump(mode="json", exclude_none=True)


def format_datetime(t: float | datetime) -> str:
    """An OCPI DateTime (UTC, ``Z``, whole seconds) from a UNIX time or an aware datetime."""
    when = t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> float:
    """UNIX time of an OCPI DateTime; ValueError when it is not one."""
    if not DATETIME_RE.match(text):
        raise ValueError(f"{text!r} is not an OCPI DateTime (like 2015-06-29T20:39:09Z)")
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC).timestamp()


class DisplayText(OcpiModel):
    language: String2
    text: String512


class Price(OcpiModel):
    excl_vat: float
    incl_vat: float | None = None


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class ModuleID(StrEnum):
    CDRS = "cdrs"
    CHARGINGPROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUBCLIENTINFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class VersionNumber(StrEnum):
    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"
    V2_2_1 = "2.2.1"


class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class ProfileType(StrEnum):
    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"
