"""Products listed by farmers (or by staff on their behalf), and the operator's approval.

Plain functions with keyword-only arguments, one transaction each; the rows they change
are locked first (select_for_update). Every rule lives here, not in the forms: a form
only turns text into values, and shows the ValidationError raised here beside its
fields ({field: [messages]}, every problem at once).

Visibility: a product with a listing is shown to buyers only while the listing is
APPROVED and the product is public (marketplace.search.indexing.is_visible). While the operator
requires approval (MarketplaceSettings.require_listing_approval), a new or changed
product waits, hidden, until the operator approves it.

Dependency direction: `farmers` uses `marketplace`. Staff scopes come from
`marketplace.core.scope` (the rule farmers registers); `may_list_for` asks it only for a
user who is neither the producer nor the operator (as certificates.can_verify does).
"""

import html
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from oscar.core.loading import get_model
from oscar.core.utils import slugify

from marketplace.catalogue import batches
from marketplace.core.access import producer_of as producer_of_user  # noqa: F401
from marketplace.core.money import format_dong, parse_dong
from marketplace.core.scope import scope_of
from marketplace.core.uploads import clean_image
from marketplace.core.validators import validate_gtin
from marketplace.models import MarketplaceSettings, ProducerProfile, ProductListing

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
Category = get_model("catalogue", "Category")
StockRecord = get_model("partner", "StockRecord")

PRODUCT_CLASS_NAME = "Nông sản"  # as in marketplace.demo.base: attributes unit and weight
MIN_PRICE = 1_000  # đồng
MAX_PRICE = 1_000_000_000
MAX_STOCK = 1_000_000
MAX_WEIGHT_KG = Decimal(1000)
MAX_TITLE = 255
MAX_DESCRIPTION = 5000
MAX_IMAGES = 8
MAX_REASON = 2000

# The unit a product is sold by: stored in Vietnamese (what buyers read in either
# language), labelled for the person filling in the form.
UNITS = [
    ("kg", gettext_lazy("kilogram (kg)")),
    ("gói", gettext_lazy("pack (gói)")),
    ("hộp", gettext_lazy("box (hộp)")),
    ("chai", gettext_lazy("bottle (chai)")),
    ("túi", gettext_lazy("bag (túi)")),
    ("hũ", gettext_lazy("jar (hũ)")),
    ("bó", gettext_lazy("bunch (bó)")),
    ("quả", gettext_lazy("piece (quả)")),
]
UNIT_VALUES = [value for value, _label in UNITS]

UPDATABLE = {
    "title",
    "category",
    "description",
    "unit",
    "weight_kg",
    "price",
    "num_in_stock",
    "gtin",
    "images",
    "remove_image_ids",
}

# "125.000", "1,250,000" or "1 250 000": digits grouped by thousands (how people in
# Vietnam write prices), not a decimal point.
_THOUSANDS = re.compile(r"^\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*$")
_PLAIN_NUMBER = re.compile(r"^[-+]?\d{1,20}(?:\.\d{1,20})?$")


# --- Who may list for whom ---------------------------------------------------------------


def product_class():
    """The product class of farm produce, with its unit and weight attributes."""
    pclass, _created = ProductClass.objects.get_or_create(
        name=PRODUCT_CLASS_NAME, defaults={"requires_shipping": True, "track_stock": True}
    )
    ProductAttribute.objects.get_or_create(
        product_class=pclass, code="unit", defaults={"name": "Đơn vị", "type": "text"}
    )
    ProductAttribute.objects.get_or_create(
        product_class=pclass, code="weight", defaults={"name": "Khối lượng (kg)", "type": "float"}
    )
    return pclass


def producer_of_product(product) -> ProducerProfile | None:
    """The producer a product belongs to: its listing's, else its stock record's."""
    listing = ProductListing.objects.filter(product=product).select_related("producer").first()
    if listing is not None:
        return listing.producer
    return (
        ProducerProfile.objects.select_related("partner")
        .filter(partner__stockrecords__product=product)
        .order_by("pk")
        .first()
    )


def runs_shop(user, producer: ProducerProfile) -> bool:
    return bool(user.is_authenticated and producer.partner.users.filter(pk=user.pk).exists())


def may_list_for(user, producer: ProducerProfile) -> bool:
    """The producer's own users, the operator, and staff whose scope covers the producer."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or runs_shop(user, producer):
        return True
    return scope_of(user).allows(producer)


def _check_may_list(by, producer) -> bool:
    """Raise PermissionDenied unless `by` may list for `producer`; True when `by` is not
    one of the producer's own users (staff acting on the farmer's behalf)."""
    if not may_list_for(by, producer):
        raise PermissionDenied(_("You cannot list products for this producer."))
    return not runs_shop(by, producer)


def _check_operator(by) -> None:
    if not (by.is_authenticated and by.is_active and by.is_superuser):
        raise PermissionDenied(_("Only the operator can review listings."))


def approval_required() -> bool:
    return MarketplaceSettings.load().require_listing_approval


# --- Values: parse and check ---------------------------------------------------------------


def parse_amount(value, *, grouping: bool = True) -> Decimal:
    """A quantity typed by a person (stock, weight): "125000", "125.000" (grouped
    thousands, unless grouping is False), "0,5" (decimal comma) or "12500.5". Raises
    ValueError when it is not a number. Money is read by marketplace.core.money.parse_dong
    instead (whole đồng only)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    text = str(value or "").strip().replace("\u00a0", " ")
    for suffix in ("₫", "đồng", "đ", "vnd", "VND", "kg"):
        text = text.removesuffix(suffix).strip()
    grouped = grouping and _THOUSANDS.match(text)
    text = re.sub(r"[.,\s]", "", text) if grouped else text.replace(",", ".")
    if not _PLAIN_NUMBER.match(text):  # no exponents, no NaN, no Infinity
        raise ValueError(value)
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(value) from exc


PRICE_MESSAGES = {
    "invalid": gettext_lazy("Enter the price in đồng, digits only, for example 125000."),
    "words": gettext_lazy("Enter the price in đồng, digits only, for example 125000."),
    "required": gettext_lazy("Enter the price in đồng, digits only, for example 125000."),
    "decimal": gettext_lazy(
        "Prices are in whole đồng, without decimals: for example 12500, not 12500.5."
    ),
}


def price_range_message() -> str:
    return _("The price must be between %(min)s and %(max)s.") % {
        "min": format_dong(MIN_PRICE),
        "max": format_dong(MAX_PRICE),
    }


def _price(value, errors) -> int | None:
    """Whole đồng (marketplace.core.money.parse_dong) within MIN_PRICE..MAX_PRICE."""
    try:
        amount = parse_dong(value)
    except ValidationError as exc:
        if exc.code in ("negative", "too_large"):
            errors.setdefault("price", []).append(price_range_message())
        else:
            errors.setdefault("price", []).append(str(PRICE_MESSAGES[exc.code]))
        return None
    if amount < MIN_PRICE or amount > MAX_PRICE:
        errors.setdefault("price", []).append(price_range_message())
        return None
    return amount


def _stock(value, errors) -> int | None:
    try:
        amount = parse_amount(value)
    except ValueError:
        amount = None
    if amount is None or amount != amount.to_integral_value():
        errors.setdefault("num_in_stock", []).append(
            _("Enter the stock as a whole number, for example 20.")
        )
        return None
    if amount < 0:
        errors.setdefault("num_in_stock", []).append(_("The stock cannot be negative."))
        return None
    if amount > MAX_STOCK:
        errors.setdefault("num_in_stock", []).append(
            _("The stock can be at most %(max)s.")
            % {"max": number_format(MAX_STOCK, force_grouping=True)}
        )
        return None
    return int(amount)


def _weight(value, errors) -> float | None:
    try:
        amount = parse_amount(value, grouping=False)  # "1,250" kg is 1.25 kg
    except ValueError:
        errors.setdefault("weight_kg", []).append(
            _("Enter the weight in kilograms, for example 0.5.")
        )
        return None
    if amount <= 0 or amount > MAX_WEIGHT_KG:
        errors.setdefault("weight_kg", []).append(
            _("The shipping weight must be more than 0 and at most 1000 kg.")
        )
        return None
    return float(amount)


def _title(value, errors) -> str | None:
    title = " ".join(str(value or "").split())
    if not title:
        errors.setdefault("title", []).append(_("Enter the name of the product."))
        return None
    if len(title) > MAX_TITLE:
        errors.setdefault("title", []).append(
            _("The name is too long: at most %(max)s characters.") % {"max": MAX_TITLE}
        )
        return None
    return title


def _description(value, errors) -> str | None:
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > MAX_DESCRIPTION:
        errors.setdefault("description", []).append(
            _("The description is too long: at most %(max)s characters.") % {"max": MAX_DESCRIPTION}
        )
        return None
    return text


def _unit(value, errors) -> str | None:
    if value not in UNIT_VALUES:
        errors.setdefault("unit", []).append(_("Choose the unit the product is sold by."))
        return None
    return value


def _category(value, errors):
    category = value
    if category is not None and not isinstance(category, Category):
        category = Category.objects.filter(pk=getattr(value, "pk", value)).first()
    if category is None:
        errors.setdefault("category", []).append(_("Choose a category."))
        return None
    return category


def _gtin(value, errors, *, product=None, taken=None) -> str | None:
    """A valid GTIN no other product has (`taken`: the codes known to be taken, instead
    of asking the database)."""
    code = re.sub(r"\s", "", str(value or ""))
    if not code:
        return ""
    try:
        validate_gtin(code)
    except ValidationError as exc:
        errors.setdefault("gtin", []).extend(str(m) for m in exc.messages)
        return None
    if taken is not None:
        used = code in taken
    else:
        others = Product.objects.filter(upc=code)
        used = (others.exclude(pk=product.pk) if product is not None else others).exists()
    if used:
        errors.setdefault("gtin", []).append(_gtin_taken_message(code))
        return None
    return code


def _gtin_taken_message(code) -> str:
    return _("GTIN %(gtin)s is already used by another product.") % {"gtin": code}


def _images(uploads, errors) -> list:
    cleaned = []
    for upload in uploads or ():
        try:
            cleaned.append(clean_image(upload))
        except ValidationError as exc:
            name = getattr(upload, "name", "") or "?"
            for message in exc.messages:
                errors.setdefault("images", []).append(f"{name}: {message}")
    return cleaned


CHECKS = {
    "title": _title,
    "category": _category,
    "description": _description,
    "unit": _unit,
    "weight_kg": _weight,
    "price": _price,
    "num_in_stock": _stock,
}


def field_errors(values: dict, *, product=None) -> dict[str, list[str]]:
    """The messages the services would give for these values (photos aside), without
    saving anything: lets a form show every problem at once. Values equal to the
    product's current unit or GTIN are not re-checked, as in update_product."""
    errors: dict[str, list[str]] = {}
    before = current_values(product, None) if product is not None else {}
    for field, value in values.items():
        if field in ("unit", "gtin") and product is not None and value == before.get(field):
            continue
        if field == "gtin":
            _gtin(value, errors, product=product)
        elif field in CHECKS:
            CHECKS[field](value, errors)
    return errors


def description_html(text: str) -> str:
    """Farmers write plain text; Oscar's product page shows the description as HTML,
    so store it escaped, with line breaks kept."""
    return escape(text).replace("\n", "<br>\n")


def description_text(product) -> str:
    """The plain text behind a stored description (the inverse of description_html)."""
    return html.unescape((product.description or "").replace("<br>\n", "\n"))


# --- Listing state ------------------------------------------------------------------------


def _pending_or_approved(listing, *, by, listed_by_staff, required) -> None:
    listing.listed_by = by
    listing.listed_by_staff = listed_by_staff
    listing.status_reason = ""
    listing.reviewed_by = None
    listing.reviewed_at = None
    listing.status = ProductListing.Status.PENDING if required else ProductListing.Status.APPROVED


def _save_images(product, images, *, title) -> None:
    order = max((i.display_order for i in product.images.all()), default=-1) + 1
    for offset, content in enumerate(images):
        image = ProductImage(product=product, display_order=order + offset, caption=title[:200])
        image.original.save(content.name, content, save=True)


def _count_new_images(errors, *, existing: int, added: int) -> None:
    if existing + added > MAX_IMAGES:
        errors.setdefault("images", []).append(
            _("A product can have at most %(max)s photos.") % {"max": MAX_IMAGES}
        )


# --- Services -------------------------------------------------------------------------------


@transaction.atomic
def create_product(
    *,
    producer,
    by,
    title,
    category,
    description="",
    unit,
    weight_kg,
    price,
    num_in_stock,
    gtin="",
    images=(),
    sku="",
) -> Product:
    """A new product of `producer`, listed by `by` (the farmer, or staff acting for them),
    under the producer's own product code `sku` when given (a spreadsheet's; otherwise
    one is made up).

    Waits hidden for the operator's approval while approval is required; otherwise it
    is on sale at once.
    """
    producer = ProducerProfile.objects.select_related("partner").get(pk=producer.pk)
    listed_by_staff = _check_may_list(by, producer)
    errors: dict[str, list[str]] = {}
    values = _new_values(
        errors,
        title=title,
        category=category,
        description=description,
        unit=unit,
        weight_kg=weight_kg,
        price=price,
        num_in_stock=num_in_stock,
    )
    values["gtin"] = _gtin(gtin, errors)
    uploads = list(images or ())
    _count_new_images(errors, existing=0, added=len(uploads))
    cleaned_images = [] if "images" in errors else _images(uploads, errors)
    if errors:
        raise ValidationError(errors)

    required = approval_required()
    product = Product(
        title=values["title"],
        description=description_html(values["description"]),
        product_class=product_class(),
        structure=Product.STANDALONE,
        upc=values["gtin"] or None,
        is_public=not required,
    )
    product.attr.unit = values["unit"]
    product.attr.weight = values["weight_kg"]
    _save_product(product)
    ProductCategory.objects.create(product=product, category=values["category"])
    StockRecord.objects.create(
        product=product,
        partner=producer.partner,
        partner_sku=sku or f"P{producer.pk}-{product.pk}",
        price=Decimal(values["price"]),
        price_currency="VND",
        num_in_stock=values["num_in_stock"],
    )
    listing = ProductListing(product=product, producer=producer)
    _pending_or_approved(listing, by=by, listed_by_staff=listed_by_staff, required=required)
    listing.save()
    _save_images(product, cleaned_images, title=values["title"])
    return product


def _new_values(errors, **fields) -> dict:
    """A new product's values, each read and checked by its rule (CHECKS) into `errors`."""
    return {field: CHECKS[field](value, errors) for field, value in fields.items()}


NEW_FIELDS = ("title", "category", "description", "unit", "weight_kg", "price", "num_in_stock")


@transaction.atomic
def create_products(*, producer, by, items) -> list:
    """Many new products of `producer` at once (a spreadsheet's rows), listed by `by`:
    each item a dict of create_product's fields (NEW_FIELDS, optional "gtin" and "sku"),
    checked by the same rules, without photos. Returns, item by item, the new Product or
    the ValidationError that refused it; the accepted ones are inserted together (no
    save signals: rebuild their search rows with marketplace.search.indexing). They wait
    for the operator's approval while it is required, as create_product's."""
    producer = ProducerProfile.objects.select_related("partner").get(pk=producer.pk)
    listed_by_staff = _check_may_list(by, producer)
    required = approval_required()
    pclass = product_class()
    attributes = {a.code: a for a in ProductAttribute.objects.filter(product_class=pclass)}
    codes = [re.sub(r"\s", "", str(item.get("gtin") or "")) for item in items]
    taken = set(
        Product.objects.filter(upc__in=[c for c in codes if c]).values_list("upc", flat=True)
    )
    results, accepted = [], []
    for item, code in zip(items, codes, strict=True):
        errors: dict[str, list[str]] = {}
        values = _new_values(errors, **{field: item.get(field) for field in NEW_FIELDS})
        _gtin(code, errors, taken=taken)
        if errors:
            results.append(ValidationError(errors))
            continue
        taken.add(code)
        product = Product(
            title=values["title"],
            slug=slugify(values["title"]),
            description=description_html(values["description"]),
            product_class=pclass,
            structure=Product.STANDALONE,
            upc=code or None,
            is_public=not required,
        )
        results.append(product)
        accepted.append((product, values, item.get("sku") or ""))
    if not accepted:
        return results
    Product.objects.bulk_create([product for product, _values, _sku in accepted])
    attribute_values, categories, records, listings_ = [], [], [], []
    for product, values, sku in accepted:
        attribute_values += [
            ProductAttributeValue(
                product=product, attribute=attributes["unit"], value_text=values["unit"]
            ),
            ProductAttributeValue(
                product=product, attribute=attributes["weight"], value_float=values["weight_kg"]
            ),
        ]
        categories.append(ProductCategory(product=product, category=values["category"]))
        records.append(
            StockRecord(
                product=product,
                partner=producer.partner,
                partner_sku=sku or f"P{producer.pk}-{product.pk}",
                price=Decimal(values["price"]),
                price_currency="VND",
                num_in_stock=values["num_in_stock"],
            )
        )
        listing = ProductListing(product=product, producer=producer)
        _pending_or_approved(listing, by=by, listed_by_staff=listed_by_staff, required=required)
        listings_.append(listing)
    ProductAttributeValue.objects.bulk_create(attribute_values)
    ProductCategory.objects.bulk_create(categories)
    StockRecord.objects.bulk_create(records)
    ProductListing.objects.bulk_create(listings_)
    return results


def _save_product(product) -> None:
    """Save, turning a GTIN taken meanwhile (the unique index) into a message."""
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        if product.upc and Product.objects.filter(upc=product.upc).exclude(pk=product.pk).exists():
            raise ValidationError({"gtin": [_gtin_taken_message(product.upc)]}) from exc
        raise


def with_current_values(stockrecords):
    """Stock records with their products and what ``current_values`` reads of them
    (categories, attribute values), prefetched: three queries for any number of them."""
    return stockrecords.select_related("product").prefetch_related(
        "product__categories",
        Prefetch(
            "product__attribute_values",
            queryset=ProductAttributeValue.objects.select_related("attribute").annotate(
                code=F("attribute__code")
            ),
            to_attr="_prefetched_attribute_values",
        ),
    )


def _first_category(product):
    prefetched = getattr(product, "_prefetched_objects_cache", {}).get("categories")
    if prefetched is not None:
        return min(prefetched, key=lambda category: category.pk, default=None)
    return product.categories.order_by("pk").first()


def current_values(product, record) -> dict:
    """What the product form shows for an existing product (no query when its categories
    and attribute values are prefetched: ``with_current_values``)."""
    category = _first_category(product)
    weight = getattr(product.attr, "weight", None)
    return {
        "title": product.title,
        "category": category,
        "description": description_text(product),
        "unit": getattr(product.attr, "unit", "") or "",
        "weight_kg": float(weight) if weight is not None else None,
        "price": int(record.price) if record is not None and record.price is not None else None,
        "num_in_stock": record.num_in_stock if record is not None else None,
        "gtin": product.upc or "",
    }


@transaction.atomic
def update_product(*, product, by, **changes) -> Product:
    """Change a product (only the fields given); new photos are appended, photos listed in
    remove_image_ids are removed.

    While approval is required, any real change sends the listing back to the operator
    and hides the product until approved — except a change of stock alone, which buyers
    need to see at once; saving without a change changes nothing. The product returned
    carries `changed_fields`, the names of the fields that changed.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"update_product() got unexpected fields: {sorted(unknown)}")
    product = Product.objects.select_for_update().get(pk=product.pk)
    producer = producer_of_product(product)
    if producer is None:
        raise ValidationError(_("This product belongs to no producer."))
    producer = ProducerProfile.objects.select_related("partner").get(pk=producer.pk)
    listed_by_staff = _check_may_list(by, producer)
    record = (
        StockRecord.objects.select_for_update()
        .filter(product=product, partner=producer.partner)
        .order_by("pk")
        .first()
    )
    listing = ProductListing.objects.select_for_update().filter(product=product).first()
    before = current_values(product, record)

    errors: dict[str, list[str]] = {}
    after = dict(before)
    for field, check in CHECKS.items():
        if field in changes and field != "unit":
            after[field] = check(changes[field], errors)
    # A unit or code kept as it was (older products may have others) is not re-checked.
    if "unit" in changes and changes["unit"] != before["unit"]:
        after["unit"] = _unit(changes["unit"], errors)
    if "gtin" in changes:
        code = re.sub(r"\s", "", str(changes["gtin"] or ""))
        if code != before["gtin"]:
            after["gtin"] = _gtin(code, errors, product=product)
    if (
        after.get("num_in_stock") is not None
        and record is not None
        and after["num_in_stock"] != before["num_in_stock"]
        and after["num_in_stock"] < (record.num_allocated or 0)
    ):
        errors.setdefault("num_in_stock", []).append(
            _("%(count)s are in orders not yet shipped: the stock cannot be lower than that.")
            % {"count": record.num_allocated}
        )

    if (
        after.get("num_in_stock") != before["num_in_stock"]
        and record is not None
        and batches.is_lot_sold(record)
    ):
        errors.setdefault("num_in_stock", []).append(
            _(
                "This product is sold from its lots: its stock is what they hold. Put a "
                "lot on sale instead."
            )
        )

    current_images = list(product.images.all())
    remove_ids = {int(getattr(i, "pk", i)) for i in changes.get("remove_image_ids") or ()}
    removed = [image for image in current_images if image.pk in remove_ids]
    if len(removed) != len(remove_ids):
        errors.setdefault("remove_image_ids", []).append(
            _("Some of the photos to remove are not photos of this product.")
        )
    uploads = list(changes.get("images") or ())
    _count_new_images(errors, existing=len(current_images) - len(removed), added=len(uploads))
    cleaned_images = [] if "images" in errors else _images(uploads, errors)
    if errors:
        raise ValidationError(errors)

    changed = [field for field in before if after[field] != before[field]]
    if cleaned_images or removed:
        changed.append("images")
    product.changed_fields = changed
    if not changed:
        return product
    if changed == ["num_in_stock"] and record is not None:
        # Stock changes daily after a harvest or a sale at the market; what buyers read
        # (title, description, photos, price) is unchanged, so there is nothing to review
        # and the product stays on sale.
        record.num_in_stock = after["num_in_stock"]
        record.save(update_fields=["num_in_stock", "date_updated"])
        return product

    required = approval_required()
    if after["title"] != before["title"]:
        product.title = after["title"]
        product.slug = slugify(after["title"])
    if after["description"] != before["description"]:
        product.description = description_html(after["description"])
    if after["gtin"] != before["gtin"]:
        product.upc = after["gtin"] or None
    # Attribute values are written only when they change (a price change writes none).
    if after["unit"] != before["unit"]:
        product.attr.unit = after["unit"]
    if after["weight_kg"] != before["weight_kg"]:
        product.attr.weight = after["weight_kg"]
    product.is_public = not required
    if listing is None:
        listing = ProductListing(product=product, producer=producer)
    _pending_or_approved(listing, by=by, listed_by_staff=listed_by_staff, required=required)
    listing.save()
    _save_product(product)

    if after["category"] != before["category"]:
        ProductCategory.objects.filter(product=product).delete()
        ProductCategory.objects.create(product=product, category=after["category"])
    if record is None:
        record = StockRecord(
            product=product,
            partner=producer.partner,
            partner_sku=f"P{producer.pk}-{product.pk}",
            price_currency="VND",
        )
    if record.pk is None or "price" in changed or "num_in_stock" in changed:
        record.price = Decimal(after["price"]) if after["price"] is not None else None
        record.num_in_stock = after["num_in_stock"]
        record.price_currency = "VND"
        record.save()
    for image in removed:
        _delete_image(image)
    _save_images(product, cleaned_images, title=product.title)
    return product


def _delete_image(image) -> None:
    """Remove the row now; its file goes once the transaction has committed
    (marketplace.catalogue.receivers)."""
    image.delete()


@transaction.atomic
def approve_listing(*, listing, by) -> ProductListing:
    """The operator approves a waiting listing: buyers see the product from now on."""
    _check_operator(by)
    listing = ProductListing.objects.select_for_update().get(pk=listing.pk)
    if listing.status != ProductListing.Status.PENDING:
        raise ValidationError(_("This product is no longer waiting for approval."))
    product = Product.objects.select_for_update().get(pk=listing.product_id)
    listing.status = ProductListing.Status.APPROVED
    listing.status_reason = ""
    listing.reviewed_by = by
    listing.reviewed_at = timezone.now()
    listing.save()
    product.is_public = True
    product.save()
    return listing


@transaction.atomic
def reject_listing(*, listing, by, reason) -> ProductListing:
    """The operator rejects a listing (waiting, or approved and now taken down): the
    product stays hidden and the farmer sees the reason."""
    _check_operator(by)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": [_("Please tell the producer why the product is rejected.")]}
        )
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {
                "reason": [
                    _("The reason is too long: at most %(max)s characters.") % {"max": MAX_REASON}
                ]
            }
        )
    listing = ProductListing.objects.select_for_update().get(pk=listing.pk)
    if listing.status == ProductListing.Status.REJECTED:
        raise ValidationError(_("This product has already been rejected."))
    product = Product.objects.select_for_update().get(pk=listing.product_id)
    listing.status = ProductListing.Status.REJECTED
    listing.status_reason = reason
    listing.reviewed_by = by
    listing.reviewed_at = timezone.now()
    listing.save()
    product.is_public = False
    product.save()
    return listing


@transaction.atomic
def set_listing_approval_required(*, required, by) -> MarketplaceSettings:
    """Switch the approval of new and changed products on or off. Listings already
    waiting stay in the queue either way."""
    _check_operator(by)
    MarketplaceSettings.load(fresh=True)  # the row exists
    settings_row = MarketplaceSettings.objects.select_for_update().get(pk=1)
    settings_row.require_listing_approval = bool(required)
    settings_row.save()
    return settings_row
