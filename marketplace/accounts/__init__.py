"""Signing in: one page for everyone, with an e-mail or a Vietnamese phone number, landing
on the user's home (marketplace.core.homes)."""
