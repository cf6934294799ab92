"""OCPP schema validation at compiled speed, with the ``ocpp`` library's own verdicts.

The ``ocpp`` library checks every message against the official JSON schemas with jsonschema's
``Draft4Validator`` (about 200 us for a StopTransaction), and by default in a thread pool, which
adds a hand-off per message: two validations per charger message at the gateway, one per call at
a simulated charger. :func:`install` swaps in a validator compiled by ``fastjsonschema`` (about
10 us) for the same schema, and validates in the event loop's thread.

The verdicts stay the library's: a message the compiled validator accepts is accepted; one it
refuses is validated again by the library's ``Draft4Validator``, which raises the exact error it
always raised (and so the same CallError code), or accepts it where the two disagree (the
reference wins). ``tests/offchain/gateway/test_ocpp_validate.py`` checks that the compiled
validator never accepts what the reference refuses. The three OCPP 1.6 schemas the library
validates with decimal floats keep the library's validator.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import fastjsonschema
import ocpp.charge_point
import ocpp.messages

__all__ = ["CompiledValidator", "install"]

_reference_get_validator = ocpp.messages.get_validator
_compiled: dict[tuple[int, str, str], CompiledValidator] = {}
_lock = threading.Lock()
_DRAFT4 = "http://json-schema.org/draft-04/schema#"


class CompiledValidator:
    """``validate(payload)`` like the reference ``Draft4Validator`` it wraps."""

    def __init__(self, reference: Any) -> None:
        self.reference = reference
        # Draft 4 whatever the file says: the reference is a Draft4Validator for every schema
        # (2.0.1's files name draft 6, under which 1.0 would pass as an integer); defaults are
        # never filled in (the payload is not changed).
        schema = {**reference.schema, "$schema": _DRAFT4}
        self._check: Callable[[Any], Any] = fastjsonschema.compile(
            schema, use_default=False, use_formats=False, detailed_exceptions=False)

    def validate(self, payload: Any) -> None:
        if not self._passes(payload):
            self.reference.validate(payload)  # the library's own error, or its acceptance

    def iter_errors(self, payload: Any) -> Iterator[Any]:
        """The reference's errors, in its order; none when the compiled check passes."""
        return iter(()) if self._passes(payload) else self.reference.iter_errors(payload)

    def _passes(self, payload: Any) -> bool:
        try:
            self._check(payload)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    @property
    def schema(self) -> Any:
        return self.reference.schema


def get_validator(message_type_id: int, action: str, ocpp_version: str,
                  parse_float: Callable[[str], Any] = float) -> Any:
    reference = _reference_get_validator(message_type_id, action, ocpp_version, parse_float)
    if parse_float is not float:  # the decimal schemas: the library's validator
        return reference
    key = (message_type_id, action, ocpp_version)
    found = _compiled.get(key)
    if found is None:
        with _lock:  # the library's own cache is not locked either; compile once
            found = _compiled.get(key) or CompiledValidator(reference)
            _compiled[key] = found
    return found


async def validate_payload(message: ocpp.messages.Call | ocpp.messages.CallResult,
                           ocpp_version: str) -> None:
    ocpp.messages._validate_payload(message, ocpp_version)


def install() -> None:
    """Route the library's validation through :func:`get_validator`, in the caller's thread.
    Idempotent; fails loudly if the library no longer has the hooks it replaces."""
    for module, name in ((ocpp.messages, "get_validator"),
                         (ocpp.charge_point, "validate_payload")):
        if not callable(getattr(module, name, None)):
            raise RuntimeError(f"ocpp {module.__name__}.{name} is gone: review "
                               "wattnet.ocpp_validate for this ocpp version")
    ocpp.messages.get_validator = get_validator
    ocpp.charge_point.validate_payload = validate_payload

