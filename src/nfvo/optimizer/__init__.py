"""Resource optimization: placement and consolidation (later issue)."""
