"""The OCPI response envelope, status codes (``status_codes.asciidoc``) and ``OcpiError``.

Every answer that reaches the OCPI layer is ``{"data", "status_code", "status_message",
"timestamp"}`` with HTTP 200 (201 for a new object). Transport errors are HTTP only: 400 for a body
that is not JSON, 401 for a missing or unknown token, 404 for an unknown object on GET, 405 for
credentials calls out of order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from wattnet.errors import WattNetError
from wattnet.ocpi.types import DateTime, String255, format_datetime

T = TypeVar("T")


class StatusCode(IntEnum):
    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    CLIENT_API_UNUSABLE = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001
    HUB_TIMEOUT = 4002
    HUB_CONNECTION = 4003


class Envelope(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="ignore", frozen=True)

    data: T | None = None
    status_code: int
    status_message: String255 | None = None
    timestamp: DateTime


class OcpiError(WattNetError, ValueError):
    """A request the OCPI layer refuses: ``code`` for the envelope, ``http`` for transport-level
    refusals (401, 404, 405; None: HTTP 200 with the OCPI status code)."""

    def __init__(self, code: StatusCode, message: str, http: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http = http


def envelope(data: Any, code: StatusCode = StatusCode.SUCCESS, message: str | None = None,
             clock: Callable[[], float] = time.time) -> dict[str, Any]:
    body: dict[str, Any] = {"data": data, "status_code": int(code)}
    if message is not None:
        body["status_message"] = message[:255]
    body["timestamp"] = format_datetime(clock())
    return body
