"""Listings: the farmer's product pages, moderation, stock movements."""
