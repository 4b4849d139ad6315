"""HTTP routers, one module per ETSI API."""
