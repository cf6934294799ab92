"""Tests of the economic model and the network simulation. A package, so that its conftest is
not the top-level `conftest` module the gateway tests import their helpers from."""
