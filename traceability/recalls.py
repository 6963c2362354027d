"""Scans, recalls and order-line lots (filled in by the recalls work)."""
