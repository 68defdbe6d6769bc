"""integrator: keeps Dynamics 365 Sales in sync with Finance and Operations through CDS."""

__all__ = ["__version__"]

__version__ = "0.1.0"
