"""The web GUI (later issue)."""
