"""Network simulation through the real stack (``wattnet sim network``): anvil, the deployed
protocol, gateways and the oracle as processes, virtual OCPP chargers and drivers, accelerated
chain time, reconciliation to the smallest unit, and the model's report format."""
