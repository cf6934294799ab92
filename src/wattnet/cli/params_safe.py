"""``--safe``: a Safe multisig as the sender of ``wattnet params`` steps (propose, vote, delegate,
queue, execute, cancel, pause, unpause).

* ``--safe ADDRESS`` alone: nothing is sent. The step's transaction is printed (target, value,
  calldata, the SafeTx hash at the Safe's nonce) and written as a Safe Transaction Builder batch
  (``--safe-out FILE``, else printed as JSON) for the owners to load in Safe's UI and sign.
* ``--safe ADDRESS --safe-signers A,B``: owner accounts (Ape aliases or ``test:N``) sign the
  SafeTx and ``--account`` (pays the gas) sends ``execTransaction``: a rehearsal on a local
  node, or a Safe whose owners' keys are here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

META = "wattnet.safe"


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(META, {})[param.name] = value
    return value


def safe_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for opt in (
        click.option("--safe-out", type=click.Path(dir_okay=False), default=None,
                     expose_value=False, callback=_keep,
                     help="With --safe and no --safe-signers: write the Transaction Builder "
                     "batch here [default: print it]."),
        click.option("--safe-signers", envvar="WATTNET_SAFE_SIGNERS", default=None,
                     expose_value=False, callback=_keep,
                     help="Owner accounts that sign (comma-separated aliases or test:N); the "
                     "Safe then executes, --account relaying ($WATTNET_SAFE_SIGNERS)."),
        click.option("--safe", envvar="WATTNET_SAFE", default=None, expose_value=False,
                     callback=_keep,
                     help="Act as this Safe multisig ($WATTNET_SAFE): export the transaction "
                     "for its owners, or execute it with --safe-signers."),
    ):
        fn = opt(fn)
    return fn


def sender_for(view: Any, account: str | None) -> Any:
    """The step's sender: the ``--account`` one, or a SafeSender when ``--safe`` is given."""
    from wattnet.errors import ConfigError
    from wattnet.governance.client import pick_sender
    from wattnet.governance.safe import SafeSender

    opts = click.get_current_context().meta.get(META, {})
    network = view.deployment.network
    if not opts.get("safe"):
        if opts.get("safe_signers"):
            raise ConfigError("--safe-signers needs --safe ADDRESS")
        return pick_sender(account, network)
    names = [n.strip() for n in (opts.get("safe_signers") or "").split(",") if n.strip()]
    signers = [pick_sender(n, network) for n in names]
    relayer = pick_sender(account, network) if signers else None
    return SafeSender(view, opts["safe"], signers, relayer)


def exported(sender: Any, view: Any, what: str) -> bool:
    """Print a Safe export if ``sender`` kept one (then the step itself did not happen)."""
    from wattnet.governance.export import tx_builder_batch
    from wattnet.governance.safe import SafeSender, SafeTx, safe_tx_hash

    if not isinstance(sender, SafeSender) or sender.executes:
        return False
    opts = click.get_current_context().meta.get(META, {})
    d, nonce = view.deployment, sender.nonce()
    click.echo(f"Safe {sender.address} ({sender.threshold} of {len(sender.owners)} owners), "
               f"nonce {nonce}: nothing sent; its owners sign this in Safe's UI", err=True)
    for i, (to, data) in enumerate(sender.exported):
        digest = safe_tx_hash(d.chain_id, sender.address, SafeTx(to, data, nonce + i))
        click.echo(f"to: {to}\nvalue: 0\ndata: 0x{data.hex()}\n"
                   f"safeTxHash (nonce {nonce + i}): 0x{digest.hex()}", err=True)
    batch = tx_builder_batch(chain_id=d.chain_id, transactions=sender.exported,
                             name=f"WattNet: {what}", description=what,
                             created_at_ms=view.now() * 1000, safe=sender.address)
    text = json.dumps(batch, indent=2)
    out = opts.get("safe_out")
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(f"Transaction Builder batch: {out}", err=True)
    else:
        click.echo(text)
    return True
