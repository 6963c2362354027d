"""Forks of Oscar dashboard apps (only what nongsan changes)."""
