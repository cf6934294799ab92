"""Oracle errors: subclasses of the WattNet hierarchy with messages that say what to do."""

from __future__ import annotations

from wattnet.errors import ChainError, ConfigError, StorageError
from wattnet.oracle.reverts import RevertCause


class StorageUnavailable(StorageError):
    """The database refused a read or write (locked, full, corrupt, unreachable); nothing acked."""


class OracleConfigError(ConfigError):
    """An oracle setting is invalid."""


class DirectoryUnavailable(ChainError):
    """The station registry could not be read; receipts are not judged without it (HTTP 503)."""


class DirectoryBusy(DirectoryUnavailable):
    """Too many stations new to this node were looked up lately (a flood of made-up ids, or a
    cold start): a receipt is answered "deferred", not judged, and its gateway sends it again;
    a start notice gets 503 like any other registry trouble."""


class SettlementError(ChainError):
    """The settlement chain refused or failed a call; the batcher retries later."""


class SettlementWouldRevert(SettlementError):
    """The node's gas estimate says the settlement would revert; nothing was sent. ``cause``
    tells the batcher whether to wait, split the batch or hold it against a lone receipt."""

    def __init__(self, message: str, cause: RevertCause) -> None:
        super().__init__(message)
        self.cause = cause
