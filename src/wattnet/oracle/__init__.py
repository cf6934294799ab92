"""The settlement oracle: verifies, checks plausibility, dedupes, stores, batches and settles.

Data flow (one way): HTTP API (api.py) -> group-commit pipeline (ingest.py: verify.py,
plausibility.py, meter.py) -> Store (store_*.py) -> Batcher (batcher.py) -> SettlementChain.
"""
