"""The protocol's economic rules, each written once, in the contracts' integer arithmetic.

``emission`` (the schedule and its cap check), ``settlement`` (cost, payment split, retained
fees), ``weight`` (epoch cap, rated power, region multiplier, reward weight), ``rewards`` (weight
share, fee bound, escrow, forfeits), ``findings`` (stake, penalties). The params loader, the
economic model (``wattnet.sim.model``), the network simulation's reconciliation, governance's
schedule planner and the tests all call these; ``tests/contracts/unit/test_parity_*.py`` check
each against the deployed contracts, to the wei. Nothing here imports another WattNet module
(so every layer may import it). See docs/economics.md, "The rules, once".
"""
