"""Deployment records and contract ABIs for services that run outside Ape (plain web3).

A deployment is ``deployments/<ecosystem>/<network>.json``, written by whoever deployed (scripts,
tests, the demo) and committed: contract addresses by name, the chain id, the deployment block,
the deployment tx hashes, the compiler version and the git commit of the sources. The Python side
takes contract addresses from there only. ABIs come from Ape's compiled manifest
(``.build/__local__.json``, written by ``ape compile``), read as plain JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from wattnet.errors import ChainError, DeploymentNotFound

ENV_DEPLOYMENT = "WATTNET_DEPLOYMENT"  # path of a deployment JSON (overrides the lookup)
ENV_ARTIFACTS = "WATTNET_ARTIFACTS"  # path of the compiled manifest (.build/__local__.json)
ENV_ROOT = "WATTNET_ROOT"  # the project folder holding deployments/ and .build/
MANIFEST = Path(".build") / "__local__.json"


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where the protocol lives on one network."""

    ecosystem: str
    network: str
    chain_id: int
    block: int
    contracts: dict[str, str]
    tx_hashes: dict[str, str] = field(default_factory=dict)
    compiler: str = ""
    git_commit: str = ""
    # Written by the governed deploy (wattnet.chain.deploy_plan); empty in older records.
    blocks: dict[str, int] = field(default_factory=dict)
    constructor_args: dict[str, list[Any]] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: str = "complete"  # "in-progress" while a resumable deploy is under way
    deployer: str = ""  # who deployed (it holds no role afterwards)

    def __post_init__(self) -> None:
        if self.chain_id <= 0:
            raise ChainError(f"deployment {self.ecosystem}:{self.network}: bad chain id")
        checked = {}
        for name, address in self.contracts.items():
            if not is_address(address):
                raise ChainError(
                    f"deployment {self.ecosystem}:{self.network}: {name} address {address!r} "
                    "is not an address; fix or rewrite the deployment file"
                )
            checked[name] = to_checksum_address(address)
        object.__setattr__(self, "contracts", checked)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]
        except KeyError:
            raise DeploymentNotFound(
                f"{name} is not in the {self.ecosystem}:{self.network} deployment "
                f"(has {sorted(self.contracts)}); redeploy or fix the deployment file"
            ) from None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def project_root() -> Path:
    """``$WATTNET_ROOT``, else the nearest folder above the working directory with an
    ape-config.yaml, else the source checkout this package was installed from."""
    env = os.environ.get(ENV_ROOT)
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "ape-config.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[3]


def deployment_path(ecosystem: str, network: str, root: Path | None = None) -> Path:
    return (root or project_root()) / "deployments" / ecosystem / f"{network}.json"


def deployment_from_json(raw: Any, source: str) -> Deployment:
    try:
        return Deployment(
            ecosystem=str(raw["ecosystem"]),
            network=str(raw["network"]),
            chain_id=int(raw["chain_id"]),
            block=int(raw["block"]),
            contracts={str(k): str(v) for k, v in dict(raw["contracts"]).items()},
            tx_hashes={str(k): str(v) for k, v in dict(raw.get("tx_hashes", {})).items()},
            compiler=str(raw.get("compiler", "")),
            git_commit=str(raw.get("git_commit", "")),
            blocks={str(k): int(v) for k, v in dict(raw.get("blocks", {})).items()},
            constructor_args={str(k): list(v)
                              for k, v in dict(raw.get("constructor_args", {})).items()},
            steps={str(k): dict(v) for k, v in dict(raw.get("steps", {})).items()},
            status=str(raw.get("status", "complete")),
            deployer=str(raw.get("deployer", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ChainError(f"deployment file {source} is malformed ({exc!r}); redeploy") from exc


def load_deployment_file(path: Path) -> Deployment:
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DeploymentNotFound(
            f"no deployment record at {path}; deploy first (scripts/deploy.py) or point "
            f"${ENV_DEPLOYMENT} at the right file"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ChainError(f"cannot read deployment file {path}: {exc}") from exc
    return deployment_from_json(raw, str(path))


def load_deployment(
    ecosystem: str | None = None, network: str | None = None, root: Path | None = None
) -> Deployment:
    """``$WATTNET_DEPLOYMENT`` if set (and no network given), else
    ``<root>/deployments/<ecosystem>/<network>.json``."""
    if ecosystem is None or network is None:
        env = os.environ.get(ENV_DEPLOYMENT)
        if not env:
            raise DeploymentNotFound(
                f"no deployment chosen: set ${ENV_DEPLOYMENT} to a deployments/<ecosystem>/"
                "<network>.json file"
            )
        return load_deployment_file(Path(env))
    return load_deployment_file(deployment_path(ecosystem, network, root))


def save_deployment(
    deployment: Deployment, root: Path | None = None, path: Path | None = None
) -> Path:
    """Write the record (atomically: a reader never sees half a file) to ``path``, by default
    ``<root>/deployments/<ecosystem>/<network>.json``; returns its path."""
    path = path or deployment_path(deployment.ecosystem, deployment.network, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def git_commit(root: Path | None = None) -> str:
    """The checked-out commit of the sources (empty when not a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root or project_root(),
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


# ---------------------------------------------------------------- ABIs
def manifest_path(root: Path | None = None) -> Path:
    env = os.environ.get(ENV_ARTIFACTS)
    return Path(env) if env else (root or project_root()) / MANIFEST


@lru_cache(maxsize=8)
def _manifest(path: Path) -> dict[str, Any]:
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ChainError(
            f"no compiled contracts at {path}: run `ape compile` in the project folder or set "
            f"${ENV_ARTIFACTS}"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ChainError(f"cannot read compiled contracts {path}: {exc}; rerun `ape compile`"
                         ) from exc
    return raw


def load_abi(name: str, root: Path | None = None) -> list[dict[str, Any]]:
    """The ABI of contract ``name`` from the compiled manifest."""
    path = manifest_path(root)
    types = _manifest(path).get("contractTypes", {})
    if name not in types or "abi" not in types[name]:
        raise ChainError(f"{name} is not among the compiled contracts in {path}; "
                         "run `ape compile --force`")
    abi: list[dict[str, Any]] = types[name]["abi"]
    return abi


def compiler_version(root: Path | None = None) -> str:
    """The solc version the manifest was compiled with (empty if unknown)."""
    compilers = _manifest(manifest_path(root)).get("compilers") or []
    return str(compilers[0].get("version", "")) if compilers else ""
