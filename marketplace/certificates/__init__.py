"""Certificates (OCOP, VietGAP, GlobalGAP, organic): upload, review, badges."""
