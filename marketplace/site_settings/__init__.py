"""The operator's marketplace settings."""
