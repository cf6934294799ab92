"""The one exception hierarchy of WattNet.

Every error a user can cause derives from :class:`WattNetError` and from the fitting built-in,
and its message says what is wrong and what to do about it.
"""

from __future__ import annotations


class WattNetError(Exception):
    """Base of every WattNet error; ``str(err)`` is one line fit for a user."""


class ConfigError(WattNetError, ValueError):
    """A configuration file, parameter or command-line value is invalid."""


class SignatureError(WattNetError, ValueError):
    """A signature is malformed, malleable or not from the expected signer."""


class ReceiptError(WattNetError, ValueError):
    """A session receipt is malformed or fails a protocol rule."""


class StorageError(WattNetError, RuntimeError):
    """The database cannot durably store or read data; nothing was acknowledged."""


class ChainError(WattNetError, RuntimeError):
    """The chain or a deployment cannot be reached or does not match what is expected."""


class DeploymentNotFound(ChainError, FileNotFoundError):
    """No deployment record exists for the requested network."""
