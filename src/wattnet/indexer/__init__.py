"""The event indexer (issue 15): the deployed contracts' logs, followed block range by block
range up to a confirmation depth, into tables beside the oracle's in the same store (SQLite or
PostgreSQL), so the app's read API answers from the store instead of scanning logs per request.

``schema`` (the tables, created idempotently), ``logs`` (which events, decoded), ``settled``
(settlement transactions decoded into sessions and payment splits), ``follow`` (the cursor, the
batched ``eth_getLogs``, reorg handling), ``reads`` (what the API asks of the index)."""
