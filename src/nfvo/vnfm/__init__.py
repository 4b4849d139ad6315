"""VNFM: the built-in generic VNFM and a SOL003 client (later issue)."""
