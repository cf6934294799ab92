"""``wattnet gateway admin``: remote operations through a running gateway's admin API.

    wattnet gateway admin stations
    wattnet gateway admin reset CP-1 hard:=true
    wattnet gateway admin set-profile CP-1 schedule=night connector:=1
    wattnet gateway admin get-config CP-1 'keys:=["HeartbeatInterval"]' --json

Parameters are ``key=value`` (a string) or ``key:=JSON`` (a number, true/false, a list), as in
httpie. The token is read from the environment variable ``--token-env`` names.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from wattnet.cli.output import show
from wattnet.errors import ConfigError, WattNetError
from wattnet.gateway.remote_ops import OPS as REMOTE_OPS

console = Console()
OPS = ("stations", *REMOTE_OPS)


class AdminCallError(WattNetError, RuntimeError):
    """The gateway's admin API refused the call or could not be reached."""


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition(":=")
        if sep:
            try:
                out[key] = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"{item}: the value after := must be JSON ({exc})") from exc
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{item!r}: give parameters as key=string or key:=JSON")
        out[key] = value
    return out


def call_api(url: str, token: str, path: str, body: dict[str, Any] | None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url.rstrip("/") + path, data=data, method="GET" if
                                 body is None else "POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except (ValueError, AttributeError):
            message = exc.reason
        raise AdminCallError(f"gateway answered {exc.code}: {message}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AdminCallError(f"cannot reach the gateway admin API at {url}: {reason}") from exc


@click.command()
@click.argument("op", type=click.Choice(OPS))
@click.argument("charge_point", required=False)
@click.argument("params", nargs=-1)
@click.option("--url", envvar="WATTNET_GATEWAY_ADMIN_URL", default="http://127.0.0.1:9100",
              show_default=True, help="The gateway's admin API (env WATTNET_GATEWAY_ADMIN_URL).")
@click.option("--token-env", default="WATTNET_GATEWAY_ADMIN_TOKEN", show_default=True,
              help="Environment variable holding the admin token.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")
def admin(op: str, charge_point: str | None, params: tuple[str, ...], url: str, token_env: str,
          as_json: bool) -> None:
    """Run OP on CHARGE_POINT (a connected station) through the gateway's admin API; PARAMS
    are key=string or key:=JSON (docs/gateway.md lists each operation's parameters)."""
    token = os.environ.get(token_env)
    if not token:
        raise ConfigError(f"set the gateway's admin token in ${token_env}")
    if op == "stations":
        answer = call_api(url, token, "/v1/stations", None)
    elif charge_point is None:
        raise ConfigError(f"{op}: name the charge point")
    else:
        answer = call_api(url, token, f"/v1/stations/{charge_point}/{op}", parse_params(params))
    if as_json:
        click.echo(json.dumps(answer))
    elif op == "stations":
        table = Table("charge point", "connected", "version", "connectors")
        for row in answer:
            table.add_row(row["chargePointId"], "yes" if row["connected"] else "no",
                          row["version"] or "", str(row["connectors"]))
        show(console, table)
    else:
        console.print(f"{answer['chargePointId']} {answer['action']} ({answer['version']}): "
                      f"{answer['status'] or json.dumps(answer['result'])}", markup=False)
