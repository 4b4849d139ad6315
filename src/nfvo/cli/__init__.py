"""The nfvo command line."""
