"""WattNet: a DePIN protocol for EV charging (edge gateway, settlement oracle, contracts)."""

from __future__ import annotations

__version__ = "0.1.0"
