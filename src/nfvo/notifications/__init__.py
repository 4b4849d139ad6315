"""SOL005 subscriptions and durable notification delivery (later issue)."""
