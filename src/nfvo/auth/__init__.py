"""API clients and their bearer tokens (OAuth2 client credentials, SOL013 §8)."""
