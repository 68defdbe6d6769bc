"""The Prospect-to-cash pieces on the Sales side: number sequences and the upgrade script."""

from integrator.p2c.upgrade import UpgradeReport, run_upgrade

__all__ = ["UpgradeReport", "run_upgrade"]
