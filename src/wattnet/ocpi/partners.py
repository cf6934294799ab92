"""OCPI partners, credentials tokens and eMSP tokens, in the oracle's database.

The tables live next to the oracle's (same ``Store``: SQLite or PostgreSQL, same transactions)
with their own schema version, ``meta.ocpi_schema_version``, so OCPI never renumbers the oracle's
migrations. Credentials tokens we accept (A: one registration; C: a registered partner) are kept
as SHA-256 digests only; the partner's token B (ours to call it with) is kept as given.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wattnet.oracle.store_base import Store

log = logging.getLogger(__name__)

OCPI_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: partners (one per registration), token A's, eMSP tokens (tokens module, receiver)
        """CREATE TABLE ocpi_partners (
            id {id},
            token_c_hash {blob} NOT NULL UNIQUE,
            token_b TEXT NOT NULL,
            versions_url TEXT NOT NULL,
            version TEXT NOT NULL,
            endpoints TEXT NOT NULL,
            roles TEXT NOT NULL,
            registered_at {int} NOT NULL,
            updated_at {int} NOT NULL
        )""",
        """CREATE TABLE ocpi_token_a (
            token_hash {blob} PRIMARY KEY,
            created_at {int} NOT NULL
        )""",
        """CREATE TABLE ocpi_tokens (
            country_code TEXT NOT NULL,
            party_id TEXT NOT NULL,
            uid TEXT NOT NULL,
            type TEXT NOT NULL,
            partner_id {int} NOT NULL,
            body TEXT NOT NULL,
            last_updated TEXT NOT NULL,
            PRIMARY KEY (country_code, party_id, uid, type)
        )""",
    ),
)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters, within string(64)


@dataclass(frozen=True, slots=True)
class Partner:
    id: int
    token_b: str
    versions_url: str
    version: str
    endpoints: dict[str, dict[str, str]]  # module -> {role: url}
    roles: list[dict[str, Any]]  # CredentialsRole objects as the partner sent them

    def parties(self) -> set[tuple[str, str]]:
        """(country_code, party_id) of every role, upper case (CiString)."""
        return {(r["country_code"].upper(), r["party_id"].upper()) for r in self.roles}

    def url(self, module: str, role: str = "RECEIVER") -> str | None:
        return self.endpoints.get(module, {}).get(role)


def _partner(row: tuple[Any, ...]) -> Partner:
    pid, token_b, url, version, endpoints, roles = row
    return Partner(int(pid), token_b, url, version, json.loads(endpoints), json.loads(roles))


_PARTNER_COLS = "id, token_b, versions_url, version, endpoints, roles"


class PartnerStore:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._s = store
        self._clock = clock

    def migrate(self) -> None:
        self._s.apply_migrations("ocpi_schema_version", OCPI_MIGRATIONS, "this wattnet's OCPI")

    # ---- credentials tokens ----
    def issue_token_a(self) -> str:
        """A new registration token (CREDENTIALS_TOKEN_A), valid for one registration."""
        token = new_token()
        with self._s.transaction() as tx:
            tx.execute("INSERT INTO ocpi_token_a (token_hash, created_at) VALUES (?, ?)",
                       (token_hash(token), int(self._clock())))
        return token

    def is_token_a(self, token: str) -> bool:
        with self._s.transaction() as tx:
            return tx.one("SELECT 1 FROM ocpi_token_a WHERE token_hash = ?",
                          (token_hash(token),)) is not None

    def by_token_c(self, token: str) -> Partner | None:
        with self._s.transaction() as tx:
            row = tx.one(f"SELECT {_PARTNER_COLS} FROM ocpi_partners WHERE token_c_hash = ?",
                         (token_hash(token),))
        return None if row is None else _partner(row)

    def partners(self) -> list[Partner]:
        with self._s.transaction() as tx:
            rows = tx.query(f"SELECT {_PARTNER_COLS} FROM ocpi_partners ORDER BY id")
        return [_partner(r) for r in rows]

    # ---- registration ----
    def register(self, token_a: str, token_c: str, token_b: str, versions_url: str,
                 version: str, endpoints: dict[str, dict[str, str]],
                 roles: list[dict[str, Any]]) -> Partner | None:
        """Store a new partner and spend token A, in one transaction; None when token A was
        spent meanwhile (a second registration with it)."""
        now = int(self._clock())
        with self._s.transaction() as tx:
            if not tx.execute("DELETE FROM ocpi_token_a WHERE token_hash = ?",
                              (token_hash(token_a),)):
                return None
            tx.execute(
                "INSERT INTO ocpi_partners (token_c_hash, token_b, versions_url, version, "
                "endpoints, roles, registered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token_hash(token_c), token_b, versions_url, version, json.dumps(endpoints),
                 json.dumps(roles), now, now))
            row = tx.one(f"SELECT {_PARTNER_COLS} FROM ocpi_partners WHERE token_c_hash = ?",
                         (token_hash(token_c),))
        assert row is not None
        return _partner(row)

    def update(self, partner: Partner, token_c: str, token_b: str, versions_url: str,
               version: str, endpoints: dict[str, dict[str, str]],
               roles: list[dict[str, Any]]) -> Partner:
        with self._s.transaction() as tx:
            tx.execute(
                "UPDATE ocpi_partners SET token_c_hash = ?, token_b = ?, versions_url = ?, "
                "version = ?, endpoints = ?, roles = ?, updated_at = ? WHERE id = ?",
                (token_hash(token_c), token_b, versions_url, version, json.dumps(endpoints),
                 json.dumps(roles), int(self._clock()), partner.id))
        return Partner(partner.id, token_b, versions_url, version, endpoints, roles)

    def unregister(self, partner: Partner) -> None:
        with self._s.transaction() as tx:
            tx.execute("DELETE FROM ocpi_tokens WHERE partner_id = ?", (partner.id,))
            tx.execute("DELETE FROM ocpi_partners WHERE id = ?", (partner.id,))

    # ---- eMSP tokens (tokens module, receiver interface) ----
    def token(self, country: str, party: str, uid: str, type_: str) -> dict[str, Any] | None:
        with self._s.transaction() as tx:
            row = tx.one("SELECT body FROM ocpi_tokens WHERE country_code = ? AND party_id = ? "
                         "AND uid = ? AND type = ?", (country.upper(), party.upper(), uid, type_))
        return None if row is None else dict(json.loads(row[0]))

    def put_token(self, partner: Partner, body: dict[str, Any]) -> bool:
        """Store or replace an eMSP's token; True when it is new."""
        key = (body["country_code"].upper(), body["party_id"].upper(), body["uid"], body["type"])
        with self._s.transaction() as tx:
            existed = tx.execute(
                "DELETE FROM ocpi_tokens WHERE country_code = ? AND party_id = ? AND uid = ? "
                "AND type = ?", key)
            tx.execute("INSERT INTO ocpi_tokens (country_code, party_id, uid, type, partner_id, "
                       "body, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (*key, partner.id, json.dumps(body), body["last_updated"]))
        return existed == 0

    def token_by_uid(self, uid: str) -> dict[str, Any] | None:
        """The eMSP token with this uid (what a charger reads from an RFID card), if any."""
        with self._s.transaction() as tx:
            row = tx.one("SELECT body FROM ocpi_tokens WHERE uid = ? ORDER BY last_updated DESC",
                         (uid,))
        return None if row is None else dict(json.loads(row[0]))
