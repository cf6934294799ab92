"""Economic model of the WattNet token economy (``sim.model``) and, later, the network
simulator that drives the real stack; both report in the same format."""
