"""Contract tests every VIM driver must pass, and their bindings to concrete drivers."""
