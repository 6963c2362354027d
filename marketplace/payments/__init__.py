"""Payment methods of the checkout (issue 6): VietQR bank transfer payloads so far."""
