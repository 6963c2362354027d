"""Parcels: shipping rates, packing, the post office, notifications."""
