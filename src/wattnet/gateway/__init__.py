"""Edge gateway: an OCPP 1.6-J / 2.0.1 central system for one site that signs session receipts.

Layers, outside in: ``server`` (WebSockets, security profiles) -> ``protocol`` (OCPP-J framing and
CallErrors) -> ``handlers16`` / ``handlers201`` (one ``@on`` method per action) -> ``sessions``
(authorization, transactions, receipts) -> ``store`` (SQLite) and ``forwarder`` (HTTP to the
oracle).
"""
