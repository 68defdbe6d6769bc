"""``integrator sandbox serve`` and ``integrator sandbox seed``."""

from __future__ import annotations
