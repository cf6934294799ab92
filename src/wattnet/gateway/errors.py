"""Gateway-specific errors, each under the fitting :mod:`wattnet.errors` class."""

from __future__ import annotations

from wattnet.errors import ConfigError, SignatureError, StorageError, WattNetError


class GatewayConfigError(ConfigError):
    """The gateway configuration file or a station entry is invalid."""


class KeystoreError(SignatureError):
    """A station keystore cannot be read or decrypted."""


class OutboxError(StorageError):
    """The receipt outbox cannot durably store a receipt; the charger was not answered."""


class MeterDataError(WattNetError, ValueError):
    """Signed meter data (OCMF) is malformed, tampered with, or not bound to this station."""


class StationOfflineError(WattNetError, RuntimeError):
    """The charge point is not connected; a remote command cannot be sent."""


class ScheduleError(WattNetError, ValueError):
    """A charging schedule (config or admin call) is malformed."""


class AdminInputError(WattNetError, ValueError):
    """An admin API call names an unknown operation or gives bad parameters."""


class ChargerRefusedError(WattNetError, RuntimeError):
    """The charger answered a remote operation with a CallError, a refusal or garbage."""
