"""VIM drivers behind one abstract interface (later issue)."""
