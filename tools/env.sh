# Source this to use the project's toolchain by hand: `source tools/env.sh`.
_wn_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export APE_DATA_FOLDER="$_wn_root/.ape-data"
export SOLCX_BINARY_PATH="$_wn_root/.solcx"
export PATH="$_wn_root/node_modules/@foundry-rs/anvil-linux-amd64/bin:$_wn_root/.venv/bin:$PATH"
unset _wn_root
