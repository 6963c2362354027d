"""QR label sheets (filled in by the labels work)."""
