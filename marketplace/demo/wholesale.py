"""Demo wholesale prices (Krông Pắc durian and Ea Kiết coffee, by quantity) and an approved
business buyer, a restaurant in Buôn Ma Thuột with its VAT invoice details (idempotent;
through the same services as the pages)."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from marketplace.demo.base import DEMO_PASSWORD, USERS, ensure_user
from marketplace.models import BusinessBuyer
from marketplace.wholesale import services

Product = get_model("catalogue", "Product")

BUSINESS_EMAIL = "doanhnghiep@nongsan.test"
BUSINESS = {
    "kind": BusinessBuyer.Kind.RESTAURANT,
    "company_name": "Công ty TNHH Nhà hàng Hương Sen",
    "tax_code": "6001234562",  # fictional, with its check digit
    "address": "45 Nguyễn Tất Thành, phường Buôn Ma Thuột, Đắk Lắk",
    "invoice_email": "ketoan@huongsen.test",
}
# UPC → [(from quantity, unit price)]
BREAKS = {
    "NS0005": [(10, 105000), (50, 95000)],  # durian, 120.000 ₫ a kg retail
    "NS0001": [(20, 130000)],  # ground coffee 500 g, 145.000 ₫ retail
}


def seed(stdout) -> list[str]:
    for upc, rows in BREAKS.items():
        product = Product.objects.filter(upc=upc).first()
        if product is None:
            continue
        record = product.stockrecords.select_related("partner").first()
        for minimum, price in rows:
            services.set_price_break(
                partner=record.partner, product=product, min_quantity=minimum, price=Decimal(price)
            )
    user = ensure_user(BUSINESS_EMAIL, "Đỗ Thị Hương")
    business = BusinessBuyer.objects.filter(user=user).first()
    if business is None or business.status != BusinessBuyer.Status.APPROVED:
        services.register_business(user=user, **BUSINESS)
        operator = get_user_model().objects.get(email=USERS["operator"][0])
        business = BusinessBuyer.objects.get(user=user)
        services.review_business(business_id=business.pk, operator=operator, approve=True)
    return [
        f"  Business  {BUSINESS_EMAIL:<28} {DEMO_PASSWORD}  "
        "(wholesale prices: durian from 10 kg, coffee from 20)"
    ]
