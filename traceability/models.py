# Lots, farm events, QR labels and scans arrive with the traceability issue.
