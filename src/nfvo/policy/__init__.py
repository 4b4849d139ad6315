"""Policy engine: auto-scale, auto-heal, root-cause analysis (later issue)."""
