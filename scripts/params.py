"""``ape run params <command> ...``: DAO parameter changes, the same commands as
``wattnet params`` (diff, propose, vote, queue, execute, status, cancel, table, check).

See docs/runbooks/parameter-change.md. The network is ``--network`` (or ``$WATTNET_NETWORK``),
the sender ``--account`` (or ``$WATTNET_ACCOUNT``).
"""

from __future__ import annotations

from wattnet.cli.params import params as cli

__all__ = ["cli"]
