"""The CPO against the test eMSP: registration (token A/B/C), update, unregister; locations,
tariffs and CDRs pulled page by page, every message checked against the spec's rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wattnet.ocpi.config import OcpiConfig
from wattnet.ocpi.mapping import geohash_center
from wattnet.oracle.store_base import Store

from . import schemas
from .conftest import T0, Harness, settle, station_rows
from .emsp import token_header

Run = Callable[..., None]


def test_geohash_center__decodes_known_cells() -> None:
    # the published examples of the geohash format (geohash.org, Wikipedia)
    lat, lon = geohash_center("u4pruydqqvj")
    assert abs(lat - 57.64911) < 1e-5 and abs(lon - 10.40744) < 1e-5
    lat, lon = geohash_center("ezs42")
    assert abs(lat - 42.605) < 0.001 and abs(lon - (-5.603)) < 0.001


def test_registration__token_a_becomes_c_and_a_is_spent(run: Run, store: Store) -> None:
    async def scenario(h: Harness) -> None:
        ours = await h.emsp.register(h.http, h.versions_url, h.token_a)
        assert ours["roles"][0] == {"role": "CPO", "country_code": "DE", "party_id": "WNT",
                                    "business_details": {"name": "WattNet"}}
        assert ours["token"] != h.token_a and ours["url"] == h.versions_url
        # token A is gone, token C works
        status, _, _ = await h.emsp.call(h.http, "GET", h.versions_url, h.token_a)
        assert status == 401
        status, body, _ = await h.emsp.call(h.http, "GET", h.versions_url)
        assert status == 200 and body["data"][0]["version"] == "2.2.1"
        # a second POST from a registered party is 405 and changes nothing
        status, _, _ = await h.emsp.call(h.http, "POST", h.url("credentials"),
                                         json=h.emsp.credentials())
        assert status == 405
        (partner,) = h.cpo.partners.partners()
        assert partner.token_b == h.emsp.token_b
        assert partner.url("locations") == f"{h.emsp.base_url}/2.2.1/locations"

    run(scenario)


def test_credentials_update_and_unregister(run: Run) -> None:
    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        old_c = h.emsp.token_c
        h.emsp.token_b = "rotated-token-b"
        status, body, _ = await h.emsp.call(h.http, "PUT", h.url("credentials"),
                                            json=h.emsp.credentials(),
                                            data_schema=schemas.CREDENTIALS)
        assert status == 200 and body["status_code"] == 1000
        new_c = body["data"]["token"]
        assert new_c != old_c
        assert (await h.emsp.call(h.http, "GET", h.url("locations"), old_c))[0] == 401
        assert h.cpo.partners.partners()[0].token_b == "rotated-token-b"
        status, body, _ = await h.emsp.call(h.http, "DELETE", h.url("credentials"), new_c)
        assert status == 200 and body["status_code"] == 1000
        assert h.cpo.partners.partners() == []
        assert (await h.emsp.call(h.http, "GET", h.url("locations"), new_c))[0] == 401

    run(scenario)


def test_registration__partner_without_2_2_1_gets_3002_and_nothing_is_stored(run: Run) -> None:
    async def scenario(h: Harness) -> None:
        creds = h.emsp.credentials() | {"url": f"{h.emsp.base_url}/nowhere"}
        status, body, _ = await h.emsp.call(h.http, "POST", h.url("credentials"), h.token_a,
                                            json=creds)
        assert status == 200 and body["status_code"] == 3001  # its versions URL is 404
        assert h.cpo.partners.partners() == [] and h.cpo.partners.is_token_a(h.token_a)

    run(scenario)


def test_locations_and_tariffs__every_station_paged_with_link_and_counts(
        run: Run, make_config: Callable[..., OcpiConfig]) -> None:
    rows = station_rows(7)

    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        locations, totals = await h.emsp.pull_all(h.http, "locations", schemas.LOCATION,
                                                  "?limit=3")
        assert totals == [7, 7, 7] and len(locations) == 7
        assert len({loc["id"] for loc in locations}) == 7
        by_id = {loc["id"]: loc for loc in locations}
        first = by_id[rows[0]["station_id"][2:34]]
        lat, lon = geohash_center(rows[0]["geohash"])
        assert first["coordinates"] == {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"}
        assert first["evses"][0]["connectors"][0]["max_electric_power"] == 11_000
        inactive = by_id[rows[3]["station_id"][2:34]]
        assert {e["status"] for e in inactive["evses"]} == {"INOPERATIVE"}
        assert sum(len(loc["evses"]) for loc in locations) == sum(r["connectors"] for r in rows)
        tariffs, _ = await h.emsp.pull_all(h.http, "tariffs", schemas.TARIFF, "?limit=2")
        # credit 7 has no currency configured: not published
        assert sorted(round(t["elements"][0]["price_components"][0]["price"] * 10**6)
                      for t in tariffs) == [350_000 + i for i in range(7)]
        assert {t["currency"] for t in tariffs} == {"EUR"}
        connector_tariffs = {i for loc in locations for e in loc["evses"]
                             for c in e["connectors"] for i in c["tariff_ids"]}
        assert connector_tariffs == {t["id"] for t in tariffs}
        # date_from/date_to: stations 2..4 were last updated in [T0+120, T0+300)
        window, totals = await h.emsp.pull_all(
            h.http, "locations", schemas.LOCATION,
            "?date_from=2026-05-28T20:28:40Z&date_to=2026-05-28T20:31:40Z")
        assert totals == [3] and {loc["id"] for loc in window} == \
            {r["station_id"][2:34] for r in rows[2:5]}

    run(scenario, make_config(7))


def test_location_object__location_evse_connector_and_unknown_404(run: Run) -> None:
    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        loc = station_rows(3)[1]["station_id"][2:34]
        status, body, _ = await h.emsp.call(h.http, "GET", h.url(f"locations/{loc}/{loc}*2/1"),
                                            data_schema=schemas.CONNECTOR)
        assert status == 200 and body["data"]["id"] == "1"
        status, body, _ = await h.emsp.call(h.http, "GET", h.url(f"locations/{loc}/{loc}*3"))
        assert status == 404 and body["status_code"] == 2003
        status, body, _ = await h.emsp.call(h.http, "GET", h.url("locations/" + "ab" * 16))
        assert status == 404 and body["status_code"] == 2003

    run(scenario)


def test_cdrs__settled_receipts_paged_totals_equal_what_settled(run: Run, store: Store) -> None:
    stations = [bytes.fromhex(r["station_id"][2:]) for r in station_rows(3)]
    costs = []
    for i in range(11):
        cost = 1_234_567 * (i + 1)
        costs.append(cost)
        settle(store, stations[i % 3], 100 + i, energy_wh=3_527 * (i + 1), cost=cost,
               start=T0 + 4000 * i, settled_at=T0 + 4000 * i + 5000)
    settle(store, stations[0], 999, energy_wh=1, cost=1, start=T0, settled_at=T0 + 5,
           credit_id=7)  # a credit without a currency: not a CDR of this CPO

    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        cdrs, totals = await h.emsp.pull_all(h.http, "cdrs", schemas.CDR, "?limit=4")
        assert totals == [11, 11, 11] and len(cdrs) == 11
        assert sum(round(c["total_cost"]["excl_vat"] * 10**6) for c in cdrs) == sum(costs)
        assert sum(round(c["total_energy"] * 1000) for c in cdrs) == \
            sum(3_527 * (i + 1) for i in range(11))
        assert all(c["total_time"] == 1.0 and c["currency"] == "EUR" for c in cdrs)
        assert len({c["id"] for c in cdrs}) == 11

    run(scenario)


def test_bad_requests__get_the_prescribed_status_and_store_nothing(run: Run) -> None:
    async def scenario(h: Harness) -> None:
        # no token, a token that is not base64, an unknown token: 401
        async with h.http.get(h.versions_url) as resp:
            assert resp.status == 401
        async with h.http.get(h.versions_url, headers={"Authorization": "Token %%%"}) as resp:
            assert resp.status == 401
        assert (await h.emsp.call(h.http, "GET", h.versions_url, "nobody"))[0] == 401
        # token A opens only versions and credentials
        assert (await h.emsp.call(h.http, "GET", h.url("locations"), h.token_a))[0] == 401
        # malformed JSON: HTTP 400; a field breaking the spec: 2001; nothing stored
        async with h.http.post(h.url("credentials"), data=b"{not json",
                               headers=h.emsp.headers(h.token_a)) as resp:
            assert resp.status == 400
        bad = h.emsp.credentials() | {"token": "x" * 65}
        status, body, _ = await h.emsp.call(h.http, "POST", h.url("credentials"), h.token_a,
                                            json=bad)
        assert status == 200 and body["status_code"] == 2001
        assert h.cpo.partners.partners() == [] and h.cpo.partners.is_token_a(h.token_a)
        # PUT/DELETE credentials before registering: 405
        assert (await h.emsp.call(h.http, "DELETE", h.url("credentials"), h.token_a))[0] == 405
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        for query in ("?offset=-1", "?limit=0", "?limit=x", "?date_from=yesterday"):
            status, body, _ = await h.emsp.call(h.http, "GET", h.url("locations") + query)
            assert (status, body["status_code"]) == (200, 2001), query
        # an offset past the end is an empty page, not an error
        status, body, headers = await h.emsp.call(h.http, "GET", h.url("locations?offset=50"))
        assert body["data"] == [] and headers["X-Total-Count"] == "3" and "Link" not in headers
        # routing headers are echoed
        hdrs: dict[str, Any] = h.emsp.headers()
        async with h.http.get(h.url("tariffs"), headers=hdrs) as resp:
            assert resp.headers["X-Request-ID"] == hdrs["X-Request-ID"]
            assert resp.headers["X-Correlation-ID"] == hdrs["X-Correlation-ID"]
        assert token_header("a") == "Token YQ=="

    run(scenario)
