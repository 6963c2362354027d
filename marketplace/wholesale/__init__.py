"""Wholesale: price breaks by quantity set by producers, for buyers registered as
businesses (shop, restaurant, cooperative) once the operator approves them, and the VAT
invoice details those buyers give, which travel with their orders."""
