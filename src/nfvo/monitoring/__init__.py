"""Resource monitoring: metrics and events from VIMs and VNFs (later issue)."""
