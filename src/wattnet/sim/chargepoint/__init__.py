"""Virtual chargers speaking real OCPP 1.6-J and 2.0.1 over WebSockets (the simulator's edge)."""

from wattnet.sim.chargepoint.client import CallErrorReply, SimChargePoint
from wattnet.sim.chargepoint.meter import SimMeter

__all__ = ["CallErrorReply", "SimChargePoint", "SimMeter"]
