"""nfvo: an ETSI NFV Orchestrator."""

__version__ = "0.1.0"
