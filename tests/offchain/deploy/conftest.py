"""Rehearsal fixtures (helpers in rehearsal_helpers.py)."""

from __future__ import annotations

from .rehearsal_helpers import anvil_factory

__all__ = ["anvil_factory"]
