"""Oscar's basket middleware (in settings.MIDDLEWARE instead of Oscar's own), loading a
basket's lines once a request with everything the checkout reads from each line: its
product, the product's class (shipping required, stock tracked), its stock record and
producer (partner and profile: the parcels of the delivery quote), options and images.
Oscar would count the lines first, then read the lines, then each product's class in a
query of its own, on every page.

Two more queries a request are left out when they cannot find anything:
- a line's options are read only for lines added with options (Oscar's line reference of
  such a line carries a checksum of them after "<product>_<stockrecord>");
- offers are looked for only while the marketplace has a site offer or a voucher at all
  (Oscar's applicator is `marketplace.payments.offers.Applicator`); Oscar's own rules
  decide which apply.

A guest's basket (the one its cookie names) is read together with its lines, in one query,
when it has some: Oscar reads the basket, then its lines. That query (six tables' columns)
is prepared (marketplace.core.prepared): the ORM compiles it once per connection, not on
every request.

A visitor without a basket gets Oscar's unsaved one, whose `all_lines()` is a new empty
queryset at every call (the header's count, the basket page's totals): iterating one
compiles its SQL before finding it empty (0.3 ms each time). Until it is saved, its
`all_lines()` is one empty queryset, already read; once saved (adding to it), Oscar's.

`set_lines` gives a basket lines already in hand (the add-to-basket view,
marketplace.payments.basket_add) as if they had been read here."""

from django.core.signing import BadSignature, Signer
from django.db.models import prefetch_related_objects
from oscar.apps.basket.middleware import BasketMiddleware as OscarBasketMiddleware
from oscar.core.loading import get_model

from marketplace.core.cached import CachedPerRow
from marketplace.core.numbers import parse_id
from marketplace.core.prepared import PreparedQuery, as_prefetched, id_stand_in

Basket = get_model("basket", "Basket")
Line = get_model("basket", "Line")
ProductImage = get_model("catalogue", "ProductImage")


def _has_options(line):
    return line.line_reference != f"{line.product_id}_{line.stockrecord_id}"


def no_attributes(line):
    """What prefetching a line's options would leave when it has none: an empty, read
    queryset in the line's prefetch cache (Django's own shape), so no query."""
    as_prefetched(line, "attributes", [])


def _with_related(lines):
    return lines.select_related(
        "product__product_class", "stockrecord__partner__producer_profile"
    ).order_by("pk")


def set_lines(basket, lines) -> None:
    """Oscar's cache of the basket's lines (`basket.all_lines()`, `num_lines`, totals) set
    to `lines`, read: nothing asks the database for them again this request (a queryset
    made from it, as a formset may, reads them with the same related rows)."""
    queryset = _with_related(basket.lines.all()).prefetch_related("product__images")
    queryset._result_cache = list(lines)
    queryset._prefetch_done = True
    basket._lines = queryset


def _read(lines) -> list:
    # In the order of their keys (Oscar's), sorted here: ordering in SQL makes compiling this
    # query (its columns are many) a third dearer.
    return sorted(_with_related(lines).order_by(), key=lambda line: line.pk)


_GUEST_LINES = PreparedQuery(
    lambda basket_id: _with_related(
        Line.objects.filter(
            basket_id=basket_id, basket__owner=None, basket__status=Basket.OPEN
        ).select_related("basket")
    ).order_by(),
    stand_in=id_stand_in,
)


def _guest_lines(basket_id: str) -> list:
    """The lines of the open, ownerless basket `basket_id` (from a cookie we signed), each
    with its basket and related rows, in the order of their keys."""
    key = parse_id(basket_id)
    if key is None:
        return []
    return sorted(_GUEST_LINES(key), key=lambda line: line.pk)


# The photos of a basket's products (Oscar's order: display_order), prepared per number of
# products; given to each product as prefetching "product__images" would.
_IMAGES = PreparedQuery(
    lambda *product_ids: ProductImage.objects.filter(product_id__in=product_ids),
    stand_in=id_stand_in,
)
_IMAGE_COLUMNS = ProductImage._meta.concrete_fields
_IMAGE_FIELDS = [f.attname for f in _IMAGE_COLUMNS]


def _read_images(product_ids) -> dict:
    """{product id: its photos' column values, in Oscar's order}, in one query."""
    found = {pk: [] for pk in product_ids}
    for image in _IMAGES(*sorted(product_ids)):
        found[image.product_id].append(
            tuple(f.get_prep_value(getattr(image, f.attname)) for f in _IMAGE_COLUMNS)
        )
    return found


# A product's photos from the cache: every checkout page shows or prices the same basket,
# and a product's photos change only when its producer saves them.
_CACHED_IMAGES = CachedPerRow(
    "nongsan:product-images",
    _read_images,
    models={"catalogue.ProductImage": lambda image: image.product_id},
)


def prefetch_images(products) -> None:
    """Each of `products` given its photos, as prefetching "images" would (the basket's
    lines, the lines of the order just placed): from the cache, those not there read in
    one prepared query."""
    products = {product.pk: product for product in products}
    if not products:
        return
    found = _CACHED_IMAGES.get_many({pk: product.date_updated for pk, product in products.items()})
    for product_id, product in products.items():
        images = [
            ProductImage.from_db("default", _IMAGE_FIELDS, values) for values in found[product_id]
        ]
        as_prefetched(product, "images", images)


def install():
    """Forget a product's photos whenever one of them is saved or deleted."""
    _CACHED_IMAGES.install()


def _prefetch_images(lines) -> None:
    prefetch_images(line.product for line in lines if line.product_id)


def _complete(lines) -> list:
    """The lines' images, and their options (only lines added with options have any)."""
    _prefetch_images(lines)
    with_options = [line for line in lines if _has_options(line)]
    prefetch_related_objects(with_options, "attributes")
    for line in lines:
        if not _has_options(line):
            no_attributes(line)
    return lines


def _no_lines_while_unsaved(basket) -> None:
    """`basket.all_lines()` one empty, read queryset while the basket is unsaved (Oscar's
    answer, without compiling SQL at each call); Oscar's own once it has an id."""
    empty = Line.objects.none()
    empty._result_cache = []
    empty._prefetch_done = True
    oscar_all_lines = basket.all_lines

    def all_lines():
        return empty if basket.id is None else oscar_all_lines()

    basket.all_lines = all_lines


class BasketMiddleware(OscarBasketMiddleware):
    def get_basket(self, request):
        basket = super().get_basket(request)
        if basket.id is None:
            _no_lines_while_unsaved(basket)
        elif basket._lines is None:
            # Read now: Oscar's num_lines then counts them.
            set_lines(basket, _complete(_read(basket.lines.all())))
        return basket

    def get_cookie_basket(self, cookie_key, request, manager):
        """Oscar's (the open, ownerless basket the signed cookie names, else the cookie is
        deleted), read from its lines when it has some."""
        if cookie_key not in request.COOKIES:
            return None
        try:
            basket_id = Signer().unsign(request.COOKIES[cookie_key])
        except BadSignature:
            request.cookies_to_delete.append(cookie_key)
            return None
        lines = _guest_lines(basket_id)
        if not lines:  # an empty basket, an ordered one or none: as Oscar reads it
            return super().get_cookie_basket(cookie_key, request, manager)
        basket = lines[0].basket
        for line in lines:
            line.basket = basket  # one basket object, which the strategy is given
        set_lines(basket, _complete(lines))
        return basket
