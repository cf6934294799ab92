"""The time-stepped, vectorized, seeded token-economy model behind ``wattnet sim model``.

Modules: ``config`` (the ``model:`` section), ``state`` (inputs in model units, initial state),
``dynamics`` (one batch of runs), ``montecarlo`` (runs across cores, sweeps), ``scenarios``,
``metrics`` (what a designer asks), ``plots`` and ``report_html``.
"""
