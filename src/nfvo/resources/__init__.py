"""Resource management: VIM accounts, tenants, SDN controllers (later issue)."""
