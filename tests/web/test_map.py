"""The map in a real browser against the devnet: offline, the bundled outline with a marker per
station (no request leaves the app's server: every request is intercepted and any other host
is refused and recorded), in step with the list's filters and reachable by keyboard; with
``--tile-url``, tiles from a local tile server; and a station registered at a point clicked on
the map, with its meter's X.509 certificate, read back from the chain."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from eth_account import Account
from eth_utils.address import to_checksum_address
from PIL import Image
from web3 import HTTPProvider, Web3

from wattnet.api.devnet import OPERATOR
from wattnet.chain.meters import derived_p256_key, public_xy
from wattnet.domain import station_id_for
from wattnet.econ.findings import required_stake
from wattnet.econ.weight import station_kw
from wattnet.ocpi.mapping import geohash_center
from wattnet.sim.network.node import stop_process

from .chain import contract, fund_watt
from .pages import screenshot
from .stack import STATIONS, Network, devnet, start_app
from .test_app import connect, open_app, serious_axe_violations
from .test_driver_settings import _done
from .wallet import InjectedWallet

WATT = 10**18
LOCAL = ("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A devnet of this module's own: the station registered here must not change what the
    other modules count."""
    with devnet(tmp_path_factory.mktemp("web-map")) as net:
        yield net


@pytest.fixture(scope="module")
def app_url(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_app(network, tmp_path_factory.mktemp("app-map"))
    try:
        yield url
    finally:
        stop_process(proc)


@pytest.fixture
def wallet(network: Network) -> InjectedWallet:  # the page's wallet: the devnet's operator
    return InjectedWallet(network.rpc_url, OPERATOR)


def refuse_other_hosts(page: Any) -> list[str]:
    """Every request the page makes is intercepted: the app's own server answers, anything else
    is refused and its URL recorded (the list returned)."""
    elsewhere: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).hostname in LOCAL:
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()
    page.context.route("**/*", route)
    return elsewhere


def test_map__offline_draws_the_bundled_outline_and_the_stations_in_step_with_the_list(
        page: Any, app_url: str) -> None:
    elsewhere = refuse_other_hosts(page)
    open_app(page, app_url)
    page.wait_for_selector("body[data-map='1']")
    markers = page.locator("#map .station-marker")
    assert markers.count() == len(STATIONS)
    page.wait_for_function("document.querySelectorAll('#map path.outline-country').length > 200")
    # zoomed in on the stations (Berlin), Germany fills the view; zoomed out with the keyboard
    # (the map is focusable: "-" zooms out), its whole outline is drawn: a long path
    longest = ("Math.max(...[...document.querySelectorAll('#map path.outline-country')]"
               ".map((p) => (p.getAttribute('d') || '').length))")
    page.focus("#map")
    for _ in range(8):  # one zoom level each, once the last zoom's animation ended
        page.keyboard.press("Minus")
        page.wait_for_timeout(350)
    page.wait_for_function(f"{longest} > 1000")
    assert "Natural Earth" in page.locator("#map .leaflet-control-attribution").inner_text()
    # keyboard: tab to a marker, Enter opens its popup with the station's figures
    markers.first.focus()
    page.keyboard.press("Enter")
    popup = page.locator("#map .leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert any(cp in text for cp, *_ in STATIONS) and "connectors" in text and "per kWh" in text
    # the list's "show on the map" opens that station's popup
    page.locator("#stations tbody tr", has_text="WEB-CP-2").locator("button").click()
    second = page.locator("#map .leaflet-popup-content", has_text="WEB-CP-2")
    second.wait_for()
    assert "150 kW · 2 connectors" in second.inner_text()
    # filters apply to the map too
    page.fill("#min-power", "50")
    page.wait_for_function("document.querySelectorAll('#map .station-marker').length === 1")
    page.fill("#min-power", "0")
    page.wait_for_function("document.querySelectorAll('#map .station-marker').length === "
                           f"{len(STATIONS)}")
    screenshot(page, "map-offline")
    assert serious_axe_violations(page) == []
    assert elsewhere == []


class _TileServer(ThreadingHTTPServer):
    paths: list[str]


@pytest.fixture
def tile_server() -> Iterator[_TileServer]:
    """A tile server on localhost: any /{z}/{x}/{y}.png is a 256 px PNG; the paths asked for
    are recorded."""
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 240)).save(buf, format="PNG")
    png = buf.getvalue()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args: Any) -> None:
            pass

    server = _TileServer(("127.0.0.1", 0), Handler)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_map__loads_the_tiles_of_the_configured_tile_url(
        page: Any, network: Network, tile_server: _TileServer,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    port = tile_server.server_address[1]
    template = f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"
    proc, url = start_app(network, tmp_path_factory.mktemp("tiles"),
                          extra=("--tile-url", template, "--tile-attribution", "Test tiles"))
    try:
        assert requests.get(url + "api/config", timeout=10).json()["tiles"] == {
            "url": template, "attribution": "Test tiles"}
        elsewhere = refuse_other_hosts(page)
        open_app(page, url)
        page.wait_for_selector("#map img.leaflet-tile-loaded")
        page.wait_for_selector("body[data-map='1']")
        assert tile_server.paths and all(
            p.count("/") == 3 and p.endswith(".png") for p in tile_server.paths)
        assert "Test tiles" in page.locator("#map .leaflet-control-attribution").inner_text()
        assert page.locator("#map path.outline-country").count() == 0  # tiles, not the outline
        assert page.locator("#map .station-marker").count() == len(STATIONS)
        assert elsewhere == []  # the tile server is on localhost too
        screenshot(page, "map-tiles")
    finally:
        stop_process(proc)


def meter_certificate() -> tuple[str, bytes]:
    """A meter's X.509 certificate (PEM), signed by a test issuer, and its key's x || y."""
    meter, issuer = derived_p256_key(b"web meter"), derived_p256_key(b"web issuer")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Meter WEB-CP-4")])
    by = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WattNet test issuer")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(by)
            .public_key(meter.public_key()).serial_number(4)
            .not_valid_before(dt.datetime(2026, 1, 1)).not_valid_after(dt.datetime(2030, 1, 1))
            .sign(issuer, hashes.SHA256()))
    x, y = public_xy(meter)
    return cert.public_bytes(serialization.Encoding.PEM).decode(), x + y


def test_operator__registers_a_station_at_a_point_picked_on_the_map_with_its_meter_certificate(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    w3 = Web3(HTTPProvider(network.rpc_url))
    staking = contract(w3, network, "OperatorStaking")
    registry = contract(w3, network, "StationRegistry")
    need = required_stake(1, station_kw(11_000), staking.functions.minStakePerStation().call(),
                          staking.functions.stakePerKw().call())
    fund_watt(w3, network, OPERATOR, need)
    key = Account.create()
    pem, meter_xy = meter_certificate()

    connect(page, app_url)
    page.wait_for_selector("#operator-section:not([hidden])")
    page.fill("#stake-amount", format(Decimal(need) / WATT, "f"))
    page.click("#stake-button")
    _done(page, "Staking WATT")

    # the picker opens on the network's first station at zoom 13 (256 * 2**13 px per 360
    # degrees); a 7-character cell is 360 / 2**18 degrees wide: exactly 8 px. A click 24 px
    # right of the centre is the centre of the cell three to the east.
    first = requests.get(app_url + "api/stations", timeout=10).json()[0]["geohash"]
    lat0, lon0 = geohash_center(first)
    box = page.locator("#reg-map")
    box.scroll_into_view_if_needed()
    page.wait_for_selector("#reg-map.map-picker", state="attached")
    size = page.evaluate("(() => { const e = document.getElementById('reg-map');"
                         " return [e.clientWidth, e.clientHeight]; })()")
    page.select_option("#reg-precision", "7")
    # keyboard: Enter on the focused map picks its centre, the first station's cell
    box.focus()
    page.keyboard.press("Enter")
    assert page.input_value("#reg-geohash") == first[:7]
    box.click(position={"x": 1 + size[0] / 2 + 24, "y": 1 + size[1] / 2})
    picked = page.input_value("#reg-geohash")
    lat, lon = geohash_center(picked)
    assert len(picked) == 7 and abs(lat - lat0) < 1e-9
    assert abs(lon - (lon0 + 3 * 360 / 2**18)) < 1e-9
    assert page.locator("#reg-map path.geohash-cell").count() == 1
    assert page.locator("#reg-cell").inner_text().startswith(f"{picked}: a cell of ")

    # a key meters do not sign with is refused with the reason, in the browser
    page.fill("#reg-meter", "0x" + "04" * 64)
    page.wait_for_selector("#reg-meter-note.error")
    assert "not a point on the P-256 curve" in page.locator("#reg-meter-note").inner_text()
    page.fill("#reg-meter", pem)
    page.wait_for_selector("#reg-meter-note:not(.error):has-text('from the certificate')")
    note = page.locator("#reg-meter-note").inner_text()
    assert '"Meter WEB-CP-4", valid until 2030-01-01' in note

    page.fill("#reg-cp", "WEB-CP-4")
    page.fill("#reg-signer", key.address)
    page.fill("#reg-power", "11")
    page.fill("#reg-tariff", "0.3")
    page.fill("#reg-uri", "ipfs://wattnet-web/WEB-CP-4")
    typed = json.loads(page.locator("#binding-data").inner_text())
    page.fill("#reg-signature",
              "0x" + bytes(Account.sign_typed_data(key.key, full_message=typed).signature).hex())
    page.click("#register-button")
    _done(page, "Registering the station")
    sid = station_id_for("WEB-CP-4")
    st = registry.functions.getStation(sid).call()
    assert (st[0], st[6]) == (to_checksum_address(OPERATOR), key.address)
    assert bytes(st[7]).rstrip(b"\0").decode() == picked
    assert bytes(registry.functions.meterPublicKey(sid).call()) == meter_xy
    screenshot(page, "operator-register-map")
    assert serious_axe_violations(page) == []
