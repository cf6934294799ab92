"""WattNet: a DePIN protocol for EV charging (edge gateway, settlement oracle, contracts)."""

from __future__ import annotations

import os

__version__ = "0.1.0"

# eth-hash (under eth_utils, web3, eth_account) picks pycryptodome's keccak when it may choose:
# ~12 us a hash against pysha3's ~2 us, the same digests. Every gateway and oracle hashes
# several times per session (addresses' checksums, id tokens, EIP-712 digests), so choose pysha3
# (a dependency) unless the environment chose otherwise. eth-hash reads this at its first hash.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
