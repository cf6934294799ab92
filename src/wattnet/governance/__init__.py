"""DAO parameter changes: the governed-parameter table, change sets and the Governor proposal
life cycle behind ``wattnet params`` and ``ape run params``.

Modules: ``table`` (every governed key of ``params/<network>.yaml``: contract, getter, setter,
units, bounds), ``changeset`` (``changes/<name>.yaml``: parse, validate, build the calls),
``client`` (the chain through Ape: connect, read, sender, errors), ``proposals`` (plan,
propose, vote, queue, execute, cancel), ``records`` (proposals read back, status), ``schedule``
(the emission schedule by vote) and
``simulate`` (the economic model with current vs proposed parameters).
"""
