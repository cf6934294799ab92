"""``wattnet sim``: the token-economy model (``model``) and its named scenarios (``scenarios``)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wattnet.cli.output import show
from wattnet.errors import ConfigError
from wattnet.params import load_params

log = logging.getLogger(__name__)
console = Console()
err_console = Console(stderr=True)


@click.group("sim", context_settings={"help_option_names": ["-h", "--help"]})
def sim() -> None:
    """Economic model of the token economy; network simulation."""


@sim.command("scenarios")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def scenarios(as_json: bool) -> None:
    """List the named scenarios of `wattnet sim model`."""
    from wattnet.sim.model.scenarios import SCENARIOS

    if as_json:
        data = [
            {
                "name": s.name,
                "description": s.description,
                "moves": s.moves,
                "overrides": dict(s.overrides),
            }
            for s in SCENARIOS.values()
        ]
        console.out(json.dumps(data, indent=2), highlight=False)
        return
    from rich.padding import Padding
    from rich.text import Text

    for s in SCENARIOS.values():
        console.print(Text(s.name, style="bold"))
        console.print(Padding(Text(s.description), (0, 0, 0, 2)))
        console.print(Padding(Text(f"moves: {s.moves}", style="dim"), (0, 0, 1, 2)))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


@sim.command("model")
@click.option(
    "--params",
    "params_name",
    default="local",
    show_default=True,
    help="Network name (params/<network>.yaml) or path to a params YAML file.",
)
@click.option(
    "--scenario",
    "scenario_names",
    multiple=True,
    default=("baseline",),
    show_default=True,
    help="Scenario name (repeatable), or 'all'.",
)
@click.option(
    "--runs",
    type=click.IntRange(1, 100_000),
    default=20,
    show_default=True,
    help="Monte Carlo runs per scenario (or per sweep point).",
)
@click.option(
    "--days",
    type=click.IntRange(7, 36_500),
    default=None,
    help="Horizon in days [default: model.horizon_days].",
)
@click.option(
    "--stations",
    type=click.IntRange(1, 5_000_000),
    default=None,
    help="Station slots [default: model.stations].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every run.")
@click.option(
    "--workers", type=click.IntRange(1, 256), default=None, help="Processes [default: all cores]."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write PNG plots, report.html and CSV (series, region_series, summary, regions) "
    "into this directory.",
)
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    metavar="KEY=V1,V2|KEY=LO:HI",
    help="Sweep a params key (dotted, e.g. model.market.reward_sell_bps) over values; repeat "
    "for a product grid; link keys that move together with '+' and '/': "
    "settlement.operator_share_bps+settlement.treasury_share_bps=8000/1500,7500/2000.",
)
@click.option(
    "--sweep-random",
    type=click.IntRange(1, 100_000),
    default=None,
    metavar="N",
    help="Sample N random points from the --sweep values or LO:HI ranges.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where the runs go: this machine's process pool, or a Dask cluster "
    "(extra: pip install 'wattnet[dask]').",
)
@click.option(
    "--dask-scheduler",
    default=None,
    envvar="WATTNET_DASK_SCHEDULER",
    metavar="ADDRESS",
    help="Dask scheduler, e.g. tcp://10.0.0.5:8786 [default: a local Dask cluster of "
    "--workers processes].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def model(
    params_name: str,
    scenario_names: tuple[str, ...],
    runs: int,
    days: int | None,
    stations: int | None,
    seed: int,
    workers: int | None,
    out_dir: Path | None,
    sweeps: tuple[str, ...],
    sweep_random: int | None,
    engine_name: str,
    dask_scheduler: str | None,
    as_json: bool,
) -> None:
    """Run the token-economy model: Monte Carlo over seeds, scenarios, parameter sweeps.

    Every scenario runs with the baseline (same seed) and is reported as its deltas."""
    from wattnet.cli.sim_tables import delta_table, metrics_table, region_table, sweep_table
    from wattnet.sim.model.compare import explain
    from wattnet.sim.model.engines import open_engine
    from wattnet.sim.model.export import write_csv
    from wattnet.sim.model.metrics import Summary, summarize
    from wattnet.sim.model.montecarlo import ModelRun, run_model
    from wattnet.sim.model.plots import moving_metrics, plot_run, plot_sweep
    from wattnet.sim.model.report_html import write_report
    from wattnet.sim.model.scenarios import SCENARIOS, apply_scenario, get_scenario
    from wattnet.sim.model.sweeps import grid, parse_axis, random_points, validate_points

    params = load_params(params_name)
    names = list(SCENARIOS) if "all" in scenario_names else list(dict.fromkeys(scenario_names))
    for name in names:
        get_scenario(name)
    if sweep_random is not None and not sweeps:
        raise ConfigError("--sweep-random N needs at least one --sweep KEY=V1,V2 or KEY=LO:HI")
    axes = [parse_axis(s) for s in sweeps]
    points = (
        (random_points(axes, sweep_random, seed) if sweep_random else grid(axes)) if axes else []
    )
    if points and len(names) > 1:
        raise ConfigError("--sweep runs one scenario; give a single --scenario")
    # a sweep's values win over its scenario's: the point is applied on top of the scenario
    point_params = validate_points(apply_scenario(params, names[0]), points) if points else []

    if not points and "baseline" not in names:
        names.insert(0, "baseline")  # every scenario is reported against it
    summaries: list[Summary] = []
    sweep_rows: list[tuple[dict[str, Any], Summary]] = []
    model_runs: list[tuple[ModelRun, dict[str, Any] | None]] = []
    jobs = (
        [(n, params, None) for n in names]
        if not points
        else [(names[0], p, pt) for p, pt in zip(point_params, points, strict=True)]
    )
    with open_engine(engine_name, dask_scheduler, workers) as engine, _progress() as bar:
        task = bar.add_task("model", total=runs * len(jobs))
        for i, (name, job_params, point) in enumerate(jobs):
            label = name if point is None else ", ".join(f"{k}={v}" for k, v in point.items())
            bar.update(task, description=label)

            def advance(done: float, total: int, base: int = i * runs) -> None:
                bar.update(task, completed=base + done)

            run = run_model(
                job_params,
                name if point is None else "baseline",  # the scenario is in job_params
                runs=runs,
                seed=seed,
                days=days,
                stations=stations,
                progress=advance,
                engine=engine,
            )
            if point is not None:
                run = dataclasses.replace(run, scenario=name)
            summary = summarize(run)
            if point is None:
                summaries.append(summary)
            else:
                sweep_rows.append((point, summary))
            if out_dir is not None:
                model_runs.append((run, point))
    report = None
    if out_dir is not None:
        base_run = next((r for r, p in model_runs if r.scenario == "baseline" and p is None), None)
        plots = [path for r, p in model_runs if p is None
                 for path in plot_run(r, out_dir, base_run)]
        if sweep_rows:
            plots += plot_sweep(sweep_rows, out_dir)
        tagged: list[tuple[Summary, dict[str, Any] | None]] = [(x, None) for x in summaries]
        write_csv(model_runs, tagged + [(x, p) for p, x in sweep_rows], out_dir)
        report = write_report(summaries, plots, out_dir, sweep_rows)
    if as_json:
        base = next((s for s in summaries if s.scenario == "baseline"), None)
        data = {
            "scenarios": [
                {**s.to_dict(), "explanation": explain(base, s) if base and s is not base else None}
                for s in summaries
            ],
            "sweep": [{"point": p, "summary": s.to_dict()} for p, s in sweep_rows],
            "report": str(report) if report else None,
        }
        console.out(json.dumps(data, indent=2, default=str), highlight=False)
        return
    base = next((s for s in summaries if s.scenario == "baseline"), None)
    for s in summaries:
        if base is not None and s is not base:
            show(console, delta_table(base, s))
            console.print(explain(base, s), highlight=False)
            console.print()
        else:
            show(console, metrics_table(s))
        show(console, region_table(s))
        if not s.conservation_ok:
            err_console.print(f"warning: {s.scenario}: token or fee conservation broken")
    if sweep_rows:
        show(console, sweep_table(sweep_rows, moving_metrics(sweep_rows)))
    if report is not None:
        console.print(f"report: {report} (CSV: series, region_series, summary, regions)")


@sim.command("network")
@click.option("--chargers", type=int, default=20, show_default=True,
              help="Virtual charge points (half OCPP 1.6, half 2.0.1).")
@click.option("--drivers", type=int, default=100, show_default=True, help="Drivers.")
@click.option("--days", type=int, default=1, show_default=True, help="Simulated days.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the plan.")
@click.option("--params", "params_name", default="local", show_default=True,
              help="Network name (params/<network>.yaml) or path to a params YAML file.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write PNG plots and report.html into this directory.")
@click.option("--rpc-url", default=None,
              help="Use the anvil at this URL instead of starting one.")
@click.option("--from-state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Start anvil from this state dump (with FILE.deployment.json, or "
              "--deployment).")
@click.option("--deployment", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Deployment record of an existing deployment (with --rpc-url/--from-state).")
@click.option("--save-state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="After deploying, dump anvil's state here (for --from-state).")
@click.option("--db", default=None,
              help="Oracle store: SQLite path or postgresql:// DSN [default: in the work dir].")
@click.option("--gateways", type=click.IntRange(1, 64), default=None,
              help="Gateway processes (sites) [default: one per 2,000 chargers].")
@click.option("--oracle-nodes", type=click.IntRange(1, 31), default=1, show_default=True,
              help="Oracle processes: more than 1 runs that many oracle committee nodes, each "
              "with its own database and key, k from the params file's committee.threshold.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep keys, databases and service logs here [default: a temporary folder, "
              "removed after a successful run].")
@click.option("--ocpi", is_flag=True,
              help="Publish the network as an OCPI 2.2.1 CPO while it runs (wattnet ocpi run on "
              "the oracle's database); prints the versions URL and a registration token A.")
@click.option("--serve-app", is_flag=True,
              help="Once every session settled, serve the web app on the live network (chain, "
              "oracle store) until Ctrl-C; prints its URL (make demo APP=1).")
@click.option("--app-port", default=8680, show_default=True, type=int,
              help="Port of the web app with --serve-app.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def network(chargers: int, drivers: int, days: int, seed: int, params_name: str,
            out_dir: Path | None, rpc_url: str | None, from_state: Path | None,
            deployment: Path | None, save_state: Path | None, db: str | None,
            gateways: int | None, oracle_nodes: int, workdir: Path | None, ocpi: bool,
            serve_app: bool, app_port: int, as_json: bool) -> None:
    """Run a whole network through the real stack on a local chain and reconcile it."""
    import signal
    import sys

    from wattnet.sim.network.run import NetworkOptions, run_network

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    if workdir is None and out_dir is not None:
        workdir = out_dir / "work"  # ours: the previous run's keys, databases and logs go
        if workdir.is_dir():
            import shutil

            shutil.rmtree(workdir)
    opts = NetworkOptions(chargers=chargers, drivers=drivers, days=days, seed=seed,
                          params=params_name, rpc_url=rpc_url, from_state=from_state,
                          deployment=deployment, save_state=save_state, db=db,
                          gateways=gateways, workdir=workdir, oracle_nodes=oracle_nodes,
                          ocpi=ocpi)
    opts.validate()
    load_params(params_name)
    with _progress() as bar:
        task = bar.add_task("starting", total=1)

        def progress(what: str, done: float, total: float) -> None:
            if what.startswith("OCPI "):  # the endpoint a partner registers with: keep it
                bar.console.print(what + " (served while the run lasts)", markup=False)
            bar.update(task, description=what, completed=done, total=max(total, 1))

        on_settled = None
        if serve_app:
            from wattnet.cli.app import serve_on

            def on_settled(running: Any) -> None:
                from wattnet.api.devnet import DEV_ACCOUNTS_USD, fund_dev_accounts
                from wattnet.chain.deployments import load_deployment_file

                bar.stop()
                funded = fund_dev_accounts(running.rpc_url,
                                           load_deployment_file(running.deployment_file))
                console.print(f"the network: RPC {running.rpc_url}, chain id 31337 (add it to "
                              f"your wallet); anvil's {len(funded)} dev accounts (their keys: "
                              "`anvil` prints them; public test keys, never use them "
                              f"elsewhere) hold {DEV_ACCOUNTS_USD // 10**6:,} test USDC each: "
                              "import one to buy credits and charge", highlight=False)
                serve_on(running.rpc_url, running.deployment_file, running.oracle_db,
                         app_port, doors=running.doors, alongside=running.on_call,
                         admins=running.admins, admin_token=running.admin_token)

        result = run_network(opts, progress, on_settled)
    _print_network(result, out_dir, as_json)
    if result.differences:
        sys.exit(1)


def _print_network(result: Any, out_dir: Path | None, as_json: bool) -> None:
    from wattnet.sim.network.report import plot_network, summarize_network

    summary = summarize_network(result)
    report = None
    if out_dir is not None:
        from wattnet.sim.model.report_html import write_report

        report = write_report([summary], plot_network(result, out_dir), out_dir)
    diffs = result.differences
    if as_json:
        data = {"summary": summary.to_dict(), "report": str(report) if report else None,
                "differences": [{"item": d.item, "party": d.party, "expected": d.expected,
                                 "actual": d.actual} for d in diffs]}
        console.out(json.dumps(data, indent=2, default=str), highlight=False)
        return
    from wattnet.sim.model.report_html import fmt

    table = Table(title=f"network {summary.network}: {summary.stations:,} chargers x "
                  f"{summary.days} days (seed {summary.seed}), reconciled on chain")
    for col in ("metric", "unit", "value"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for m in summary.metrics:
        table.add_row(m.label, m.unit, fmt(m.p50))
    show(console, table)
    checked = sum(len(v) for v in result.expected.values())
    if not diffs:
        console.print(f"[green]reconciliation: all {checked:,} on-chain entries equal the "
                      f"simulation's expectation, to the smallest unit[/green]")
    else:
        table = Table(title=f"reconciliation: {len(diffs)} of {checked:,} entries differ")
        for col in ("item", "party", "expected", "on chain", "difference"):
            table.add_column(col, justify="left" if col in ("item", "party") else "right")
        for d in diffs[:100]:
            table.add_row(d.item, d.party, _num(d.expected), _num(d.actual), _num(d.delta))
        show(console, table)
        if len(diffs) > 100:
            console.print(f"... and {len(diffs) - 100} more")
    if report is not None:
        console.print(f"report: {report}")


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
