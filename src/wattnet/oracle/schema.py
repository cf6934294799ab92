"""The versioned schema, written once for both backends.

DDL uses three tokens the backend fills in: ``{id}`` (auto-increment primary key), ``{blob}``
and ``{int}`` (64-bit). Ids are bytes (station id 32, session id 8 big-endian so that byte order is
number order and uint64 fits), big uints (credit id, cost) are decimal TEXT. A migration is a
numbered list of statements applied in one transaction; ``meta.schema_version`` records progress.

Receipt states: pending -> batched -> submitted -> confirming -> settled | rejected_onchain,
or quarantined at ingest; a dropped or reorged settlement puts a receipt back to pending, a
reverted one into a corrected retry batch (``retry.py``). The batcher quarantines a receipt
that reverted alone ``max_reverts`` times and one whose settlement window closed (STALE on
chain): reasons starting ``reverted:`` and ``expired:`` (``losses.py``).
Rejected payloads live in ``rejected`` (a ring of bounded size), equivocating receipts in
``conflicts`` next to the receipt they contradict, the committee node's signatures in
``votes`` (one per nonce and round), the findings it gathered k signatures for in
``findings``, start notices in ``starts`` (``held``: what
it holds of the driver's credits until its receipt arrives or ``expires_at``, at most its signed
``amount``; 0: refused).
"""

from __future__ import annotations

from dataclasses import dataclass


class Status:
    PENDING = "pending"
    QUARANTINED = "quarantined"
    BATCHED = "batched"
    SUBMITTED = "submitted"
    CONFIRMING = "confirming"
    SETTLED = "settled"
    REJECTED_ONCHAIN = "rejected_onchain"

    ALL = (PENDING, QUARANTINED, BATCHED, SUBMITTED, CONFIRMING, SETTLED, REJECTED_ONCHAIN)


class BatchStatus:
    INTENT = "intent"  # written before sending: receipts chosen, nonce reserved
    SUBMITTED = "submitted"  # at least one tx hash recorded
    DONE = "done"  # every receipt has left the batch


RECEIPT_COLUMNS = (
    "station_id", "session_key", "connector_id", "driver", "credit_id", "energy_wh",
    "start_time", "end_time", "cost", "referrer", "signature", "meter_data", "struct_hash",
    "signer", "operator", "status", "reason", "flags", "received_at", "updated_at",
    "meter_serial", "meter_start_wh", "meter_end_wh", "ocmf_hash", "readings",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: everything
        """CREATE TABLE receipts (
            id {id},
            station_id {blob} NOT NULL,
            session_key {blob} NOT NULL,
            connector_id INTEGER NOT NULL,
            driver {blob} NOT NULL,
            credit_id TEXT NOT NULL,
            energy_wh {int} NOT NULL,
            start_time {int} NOT NULL,
            end_time {int} NOT NULL,
            cost TEXT NOT NULL,
            referrer {blob} NOT NULL,
            signature {blob} NOT NULL,
            meter_data TEXT,
            struct_hash {blob} NOT NULL,
            signer {blob} NOT NULL,
            operator {blob} NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            flags TEXT,
            received_at {int} NOT NULL,
            updated_at {int} NOT NULL,
            meter_serial TEXT,
            meter_start_wh {int},
            meter_end_wh {int},
            ocmf_hash {blob},
            batch_id {int},
            tx_hash {blob},
            block {int},
            UNIQUE (station_id, session_key)
        )""",
        "CREATE INDEX receipts_status ON receipts (status, id)",
        "CREATE INDEX receipts_connector ON receipts (station_id, connector_id, end_time)",
        "CREATE INDEX receipts_batch ON receipts (batch_id) WHERE batch_id IS NOT NULL",
        "CREATE INDEX receipts_meter ON receipts (station_id, meter_serial, end_time) "
        "WHERE meter_serial IS NOT NULL",
        "CREATE INDEX receipts_ocmf ON receipts (ocmf_hash) WHERE ocmf_hash IS NOT NULL",
        """CREATE TABLE conflicts (
            id {id},
            station_id {blob} NOT NULL,
            session_key {blob} NOT NULL,
            struct_hash {blob} NOT NULL,
            signature {blob} NOT NULL,
            body TEXT NOT NULL,
            reason TEXT NOT NULL,
            received_at {int} NOT NULL,
            UNIQUE (station_id, session_key, struct_hash)
        )""",
        """CREATE TABLE rejected (
            id {id},
            received_at {int} NOT NULL,
            reason TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
        """CREATE TABLE batches (
            id {id},
            status TEXT NOT NULL,
            nonce {int},
            created_at {int} NOT NULL,
            updated_at {int} NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX batches_status ON batches (status)",
        """CREATE TABLE txs (
            id {id},
            batch_id {int} NOT NULL,
            tx_hash {blob} NOT NULL UNIQUE,
            nonce {int} NOT NULL,
            submitted_at {int} NOT NULL,
            status TEXT NOT NULL
        )""",
        "CREATE INDEX txs_batch ON txs (batch_id)",
    ),
    (  # 2: the receipt's commitment to its signed meter readings (NULL: none, zero on chain)
        "ALTER TABLE receipts ADD COLUMN readings {blob}",
    ),
    (  # 3: start notices (wattnet.chain.start_notice): a driver's sessions in arrival order
        """CREATE TABLE starts (
            id {id},
            station_id {blob} NOT NULL,
            connector_id INTEGER NOT NULL,
            start_time {int} NOT NULL,
            driver {blob} NOT NULL,
            credit_id TEXT NOT NULL,
            amount TEXT NOT NULL,
            signature {blob} NOT NULL,
            held TEXT NOT NULL,
            received_at {int} NOT NULL,
            expires_at {int} NOT NULL,
            UNIQUE (station_id, connector_id, start_time)
        )""",
        "CREATE INDEX starts_driver ON starts (driver, expires_at)",
        "CREATE INDEX receipts_start ON receipts (station_id, connector_id, start_time)",
    ),
    (  # 4: reverted settlements (issue 18). A receipt's reverts when alone in its batch; a
       # batch that corrects a reverted one (``retry_of``, always re-estimated) and its lowest
       # gas limit; why a tx reverted.
        "ALTER TABLE receipts ADD COLUMN reverts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE batches ADD COLUMN retry_of {int}",
        "ALTER TABLE batches ADD COLUMN min_gas {int} NOT NULL DEFAULT 0",
        "ALTER TABLE txs ADD COLUMN cause TEXT",
    ),
    (  # 5: the oracle committee (issue 13): this node's signature for each (nonce, round) it
       # voted in, with the proposer's (NULL: its own proposal). Written before the signature
       # leaves the node, so it never signs two batches in one round (that is equivocation,
       # slashable), whatever crashes in between. A proposer seen signing two batches in one
       # round: the proof anyone may send to OracleCommittee.proveEquivocation.
        """CREATE TABLE votes (
            nonce {int} NOT NULL,
            round {int} NOT NULL,
            batch_hash {blob} NOT NULL,
            signature {blob} NOT NULL,
            proposer_sig {blob},
            voted_at {int} NOT NULL,
            PRIMARY KEY (nonce, round)
        )""",
        """CREATE TABLE equivocations (
            node {blob} NOT NULL,
            nonce {int} NOT NULL,
            round {int} NOT NULL,
            hash_a {blob} NOT NULL,
            sig_a {blob} NOT NULL,
            hash_b {blob} NOT NULL,
            sig_b {blob} NOT NULL,
            seen_at {int} NOT NULL,
            PRIMARY KEY (node, nonce, round)
        )""",
    ),
    (  # 6: judged findings this node gathered k signatures for (oracle/findings.py): the
       # arguments of OracleCommittee.act and the evidence document its hash names.
        """CREATE TABLE findings (
            finding_hash {blob} PRIMARY KEY,
            kind {int} NOT NULL,
            subject {blob} NOT NULL,
            value TEXT NOT NULL,
            evidence {blob} NOT NULL,
            finding_id {int} NOT NULL,
            deadline {int} NOT NULL,
            document TEXT NOT NULL,
            signatures {blob} NOT NULL,
            created_at {int} NOT NULL
        )""",
    ),
    (  # 7: a driver's unsettled receipts, read for every start notice (store_starts.py
       # unsettled_costs): without it each notice walked every unsettled receipt of every
       # driver (12 % of a committee node's CPU in the network benchmark). Partial: only the
       # rows still to settle; the statuses are literals so both backends can use it.
        "CREATE INDEX receipts_driver ON receipts (driver, credit_id) "
        "WHERE status IN ('pending', 'batched', 'submitted')",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one backend spells the schema tokens and its placeholders."""

    name: str
    id: str
    blob: str
    int: str
    placeholder: str

    def ddl(self, statement: str) -> str:
        return statement.format(id=self.id, blob=self.blob, int=self.int)

    def sql(self, statement: str) -> str:
        """Shared SQL is written with ``?``; backends using ``%s`` get it rewritten."""
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)


SQLITE = Dialect("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB", "INTEGER", "?")
POSTGRES = Dialect("postgres", "BIGSERIAL PRIMARY KEY", "BYTEA", "BIGINT", "%s")
