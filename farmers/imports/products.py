"""Product lists: a producer's products created or updated from a spreadsheet.

The same engine as a member list (reading, header guessing, the mapping page, a Celery
job with heartbeats, a per-row report); only the fields and the rows differ. A row is
keyed on the producer's own product code (SKU, the stock record's partner reference): a
code the producer already has updates that product, a new code creates one, so
importing the same file again changes nothing. Every row goes through the listing rules
(marketplace.catalogue.listings.create_product / update_product): price in whole đồng
(parse_dong), stock, weight, name, unit, GTIN, and the operator's approval of new
products and of changes buyers read. Blank cells never erase a value.
"""

import logging
import re
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from oscar.core.loading import get_model

from marketplace.catalogue import listings
from marketplace.core.text import fold
from marketplace.models import ProducerProfile, ProductListing
from marketplace.search import indexing, receivers

from ..models import ProductImport
from .common import BATCH, OUTCOMES, ImportFileError
from .jobs import retry_job, run_job, start_job, store_upload
from .mapping import guess_mapping, missing_columns
from .report import rows_csv
from .template import workbook_xlsx
from .validation import _digits_cell, _error_text, _text

logger = logging.getLogger(__name__)

Category = get_model("catalogue", "Category")
StockRecord = get_model("partner", "StockRecord")

FIELDS = (
    ("sku", gettext_lazy("Product code (SKU)")),
    ("title", gettext_lazy("Product name")),
    ("category", gettext_lazy("Category")),
    ("unit", gettext_lazy("Unit")),
    ("price", gettext_lazy("Price (đồng)")),
    ("num_in_stock", gettext_lazy("Stock")),
    ("weight_kg", gettext_lazy("Shipping weight (kg)")),
    ("description", gettext_lazy("Description")),
    ("gtin", gettext_lazy("GTIN (barcode)")),
)
FIELD_LABELS = dict(FIELDS)
REQUIRED = ("sku",)
EXAMPLE_SKU = "MAU-001"  # the template's example row: never imported
MAX_SKU = 64
# Codes the shop gives products added on the site (listings.create_product).
_SITE_CODE = re.compile(r"^P\d+-\d+$")

# Checked in this order: "Mã vạch" is a barcode before it is a code, "Giá" a price.
_GUESSES = (
    ("gtin", ("gtin", "ma vach", "barcode", "ean", "ma gtin")),
    ("sku", ("ma san pham", "ma sp", "sku", "ma hang", "ma", "code", "product code")),
    ("weight_kg", ("khoi luong", "can nang", "trong luong", "weight", "kg van chuyen")),
    ("num_in_stock", ("ton kho", "so luong", "sl", "ton", "stock", "quantity", "qty")),
    ("price", ("gia", "don gia", "gia ban", "price", "gia dong")),
    ("unit", ("don vi", "dvt", "don vi tinh", "unit")),
    ("category", ("danh muc", "loai", "nhom hang", "nganh hang", "category")),
    ("description", ("mo ta", "description", "gioi thieu")),
    ("title", ("ten san pham", "ten sp", "ten hang", "san pham", "ten", "product name",
               "name", "title", "product")),
)  # fmt: skip


def guess_product_mapping(headers: list[str]) -> dict[str, int]:
    return guess_mapping(headers, fields=FIELDS, guesses=_GUESSES)


def _no_rows() -> str:
    return _("The file has column headers but no product rows.")


def may_import_for(user, producer) -> bool:
    """Whoever may list products for the producer (its own users, the operator, staff
    whose scope covers it): marketplace.catalogue.listings.may_list_for."""
    return listings.may_list_for(user, producer)


# --- Creating, starting, running ------------------------------------------------------------


@transaction.atomic
def create_product_import(*, actor, producer, upload, language: str = "vi") -> ProductImport:
    """Check and store an uploaded product list of `producer`; it then waits for its
    column mapping (start_product_import). ImportFileError if the file cannot be used,
    PermissionDenied if `actor` may not list products for the producer."""
    if not may_import_for(actor, producer):
        raise PermissionDenied(_("You cannot list products for this producer."))
    record = ProductImport(
        created_by=actor,
        producer=producer,
        actor_role="farmer" if listings.runs_shop(actor, producer) else "staff",
        language=(language or "vi")[:10],
    )
    return store_upload(record, upload, guess=guess_product_mapping, no_rows=_no_rows())


def check_product_mapping(mapping: dict[str, int], *, columns: int) -> list[str]:
    return missing_columns(mapping, required=REQUIRED, labels=FIELD_LABELS, columns=columns)


@transaction.atomic
def start_product_import(*, record: ProductImport, mapping: dict[str, int]) -> ProductImport:
    """Save the confirmed mapping and enqueue the import once the transaction commits."""
    problems = check_product_mapping(mapping, columns=len(record.headers))
    return start_job(record, mapping, {}, problems=problems, task="run_product_import")


@transaction.atomic
def retry_product_import(*, record: ProductImport) -> bool:
    """Run a failed import again (rows already imported are found by SKU, unchanged)."""
    return retry_job(record, task="run_product_import")


def run_product_import(import_id: int) -> str:
    """The Celery task's work (farmers.tasks.run_product_import); see jobs.run_job."""
    return run_job(
        ProductImport,
        import_id,
        make_importer=_importer,
        kind="product import",
        guess=guess_product_mapping,
        no_rows=_no_rows(),
    )


def _importer(record: ProductImport) -> "ProductImporter":
    user = record.created_by
    producer = ProducerProfile.objects.select_related("partner").get(pk=record.producer_id)
    if user is None or not may_import_for(user, producer):
        raise ImportFileError(
            _("The person who uploaded this file may not list products for this producer any more.")
        )
    return ProductImporter(record, user=user, producer=producer)


# --- Reading cells ---------------------------------------------------------------------------


class Lookups:
    """Category and unit names → values, built once per import."""

    def __init__(self):
        self.units: dict[str, str] = {}
        for value, label in listings.UNITS:
            self.units[fold(value)] = value
            self.units[fold(str(label))] = value
        self.units.update({"kilogram": "kg", "kilo": "kg", "ki lo": "kg", "can": "kg"})
        categories = list(Category.objects.order_by("path").only("pk", "name", "path", "depth"))
        names_by_path = {c.path: c.name for c in categories}
        step = Category.steplen
        self.categories: dict[str, list] = {}
        for category in categories:
            parts = [names_by_path.get(category.path[:end], "") for end in
                     range(step, len(category.path) + 1, step)]  # fmt: skip
            for key in {fold(category.name), fold(" > ".join(parts))}:
                self.categories.setdefault(key, []).append(category)
        self.examples = ", ".join([c.name for c in categories if c.depth == 1][:3])
        self._found: dict[tuple, object] = {}  # (kind, cell) → value or LookupError

    def _cached(self, kind, value, find):
        """The same cell text is looked up once per import (a sheet repeats its few
        units and categories on every row)."""
        key = (kind, value if isinstance(value, str) else repr(value))
        if key not in self._found:
            try:
                self._found[key] = find(value)
            except LookupError as exc:
                self._found[key] = exc
        found = self._found[key]
        if isinstance(found, LookupError):
            raise LookupError(str(found))
        return found

    def unit(self, value) -> str:
        return self._cached("unit", value, self._unit)

    def category(self, value):
        return self._cached("category", value, self._category)

    def _unit(self, value) -> str:
        text = _text(value)
        found = self.units.get(fold(text))
        if found is None:
            raise LookupError(
                _("Unknown unit “%(name)s”: write one of %(units)s.")
                % {"name": text, "units": ", ".join(listings.UNIT_VALUES)}
            )
        return found

    def _category(self, value):
        text = _text(value)
        folded = fold(text).replace(" / ", " > ").replace(">", " > ")
        found = self.categories.get(" ".join(folded.split()), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise LookupError(
                _("Several categories are called “%(name)s”: write its full name, e.g. "
                  "“Parent > %(name)s”.") % {"name": text}
            )  # fmt: skip
        raise LookupError(
            _(
                "Unknown category “%(name)s”: write a category of the marketplace, e.g. "
                "%(examples)s."
            )
            % {"name": text, "examples": self.examples}
        )


def _number_cell(value):
    """A number cell as the listing rules read it: whole numbers as they are, anything
    else as typed (so "12.500,5" and 12500.5 both come back as not whole đồng)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return _text(value)
    return value


def _label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


# --- The importer ------------------------------------------------------------------------------


class ProductImporter:
    """Runs one product import: each row created, updated, unchanged, skipped or in error
    (with the reason), through the listing services; the counts and the report."""

    def __init__(self, record: ProductImport, *, user, producer):
        self.record = record
        self.user = user
        self.producer = producer
        self.mapping = {key: int(index) for key, index in record.mapping.items()}
        self.lookups = Lookups()
        self.seen: dict[str, int] = {}
        self.report: list[dict] = []
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.touched: list[int] = []  # products created or changed: their search rows
        self.to_create: list[tuple] = []  # (row number, sku, name, values) of the batch
        # The producer's products with what _unchanged compares (category, unit, weight),
        # read together: a row of an unchanged product then costs no query.
        self.existing = {
            record.partner_sku: record
            for record in listings.with_current_values(
                StockRecord.objects.filter(partner_id=producer.partner_id)
            ).order_by("pk")
        }

    def _cell(self, cells, key):
        index = self.mapping.get(key)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        return None if value == "" else value

    def _done(self, number, outcome, *, sku="", name="", product=None, message=""):
        self.counts[outcome] += 1
        if outcome in ("created", "updated"):
            self.touched.append(product)
        self.report.append(
            {
                "row": number,
                "outcome": outcome,
                "sku": sku,
                "name": name,
                "product": product,
                "message": str(message),
            }
        )

    def values(self, cells, errors) -> dict:
        """The row's cells as the listing services take them; blank cells left out."""
        values = {}
        for key in ("title", "description"):
            if (value := self._cell(cells, key)) is not None:
                values[key] = _text(value) if key == "title" else str(value).strip()
        for key in ("price", "num_in_stock", "weight_kg"):
            if (value := self._cell(cells, key)) is not None:
                values[key] = _number_cell(value)
        if (value := self._cell(cells, "gtin")) is not None:
            values["gtin"] = _digits_cell(value)
        if (value := self._cell(cells, "unit")) is not None:
            try:
                values["unit"] = self.lookups.unit(value)
            except LookupError as exc:
                errors["unit"] = [str(exc)]
        if (value := self._cell(cells, "category")) is not None:
            try:
                values["category"] = self.lookups.category(value)
            except LookupError as exc:
                errors["category"] = [str(exc)]
        return values

    def row(self, number: int, cells: list) -> None:
        sku = _text(self._cell(cells, "sku"))
        title = _text(self._cell(cells, "title"))[:120]
        done = partial(self._done, number, sku=sku, name=title)
        if not sku:
            return done(
                "error",
                message=_("%(field)s: enter the product code; it finds the product again when "
                          "the file is imported again.") % {"field": _label("sku")},
            )  # fmt: skip
        if sku == EXAMPLE_SKU:
            return done("skipped", message=_("The template's example row: not imported."))
        if len(sku) > MAX_SKU:
            return done(
                "error",
                message=_("%(field)s: at most %(max)s characters.")
                % {"field": _label("sku"), "max": MAX_SKU},
            )
        first = self.seen.get(fold(sku))
        if first is not None:
            message = _("The same product code is already in row %(row)s.") % {"row": first}
            return done("error", message=message)
        self.seen[fold(sku)] = number
        record = self.existing.get(sku)
        if record is None and _SITE_CODE.match(sku):
            return done(
                "error",
                message=_("%(field)s: codes like P12-345 are given by the shop to products "
                          "added on the site, and none of your products has this one. Choose "
                          "another code.") % {"field": _label("sku")},
            )  # fmt: skip
        errors: dict[str, list[str]] = {}
        values = self.values(cells, errors)
        if errors:
            # Check the other cells too, so that the row says everything at once.
            for key, messages in listings.field_errors(
                values, product=record.product if record else None
            ).items():
                errors.setdefault(key, messages)
            return done("error", message=_error_text(errors, label=_label))
        if record is None:
            # Created with the batch's other new products (create_batch).
            self.to_create.append((number, sku, title, values))
            return None
        if not values or _unchanged(record, values):
            return done("unchanged", product=record.product_id)
        try:
            product = listings.update_product(product=record.product, by=self.user, **values)
        except ValidationError as exc:
            return done("error", product=record.product_id, message=_refusal(exc))
        except PermissionDenied as exc:
            return done("error", message=str(exc))
        except DatabaseError:  # the row's savepoint is rolled back; the others go on
            logger.exception("product import %s: row %s failed", self.record.pk, number)
            return done("error", message=_("The row could not be saved."))
        changed = getattr(product, "changed_fields", [])
        if not changed:
            return done("unchanged", product=product.pk)
        fields = ", ".join(_label(name) for name in changed)
        message = _("Changed: %(fields)s.") % {"fields": fields}
        waiting = _waiting(product)
        return done("updated", product=product.pk, message=f"{message} {waiting}".strip())

    def create_batch(self) -> None:
        """Create the batch's new products together (listings.create_products); when that
        fails (a code taken meanwhile, say), one by one, so a bad row fails alone."""
        rows, self.to_create = self.to_create, []
        if not rows:
            return
        items = [{**_for_create(values), "sku": sku} for _n, sku, _t, values in rows]
        try:
            with transaction.atomic():
                results = listings.create_products(
                    producer=self.producer, by=self.user, items=items
                )
        except DatabaseError:
            logger.info("product import %s: replaying a batch row by row", self.record.pk)
            results = [self.create_one(item) for item in items]
        except PermissionDenied as exc:
            results = [exc] * len(items)
        waiting = _("Waits for the operator's approval.") if listings.approval_required() else ""
        for (number, sku, title, _values), result in zip(rows, results, strict=True):
            if isinstance(result, Exception):
                message = _refusal(result) if isinstance(result, ValidationError) else str(result)
                self._done(number, "error", sku=sku, name=title, message=message)
            else:
                self._done(number, "created", sku=sku, name=title, product=result.pk,
                           message=waiting)  # fmt: skip

    def create_one(self, item):
        try:
            return listings.create_product(producer=self.producer, by=self.user, **item)
        except (ValidationError, PermissionDenied) as exc:
            return exc
        except DatabaseError:
            logger.exception("product import %s: a row failed", self.record.pk)
            return ValidationError(_("The row could not be saved."))

    def run(self, rows: list[tuple[int, list]], progress=None) -> None:
        done = 0
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            # One commit per batch, each row its own savepoint; the search rows of the
            # batch's products rebuilt once at its end rather than at every save.
            with transaction.atomic():
                with receivers.paused():
                    for number, cells in chunk:
                        self.row(number, cells)
                    self.create_batch()
                indexing.index_products(self.touched)
                self.touched = []
            done += len(chunk)
            if progress is not None:
                progress(done)
        self.report.sort(key=lambda entry: entry["row"])


def _for_create(values: dict) -> dict:
    """A new product needs every field: the ones missing get the service's message."""
    keys = ("title", "category", "unit", "weight_kg", "price", "num_in_stock")
    return {**dict.fromkeys(keys), "description": "", "gtin": "", **values}


def _unchanged(record, values: dict) -> bool:
    """Whether the cells, read by the listing rules, are what the product already has
    (then update_product, which locks the rows, is not needed)."""
    before = listings.current_values(record.product, record)
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        if key == "gtin":
            same = re.sub(r"\s", "", str(value or "")) == before["gtin"]
        elif key == "unit" and value == before["unit"]:
            same = True
        else:
            same = listings.CHECKS[key](value, errors) == before[key] and not errors
        if not same:
            return False
    return True


def _refusal(exc: ValidationError) -> str:
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error_text(messages, label=_label)


def _waiting(product) -> str:
    listing = ProductListing.objects.filter(product=product).only("status").first()
    if listing is not None and listing.status == ProductListing.Status.PENDING:
        return _("Waits for the operator's approval.")
    return ""


# --- Template and report ---------------------------------------------------------------------


def template_rows(producer) -> list[list]:
    """The template's grey example row, then the producer's products as they are now
    (change a cell and import the file again to update them)."""
    category = Category.objects.filter(depth=1).order_by("path").first()
    rows = [
        [EXAMPLE_SKU, "Cà phê Robusta rang xay 500 g", category.name if category else "",
         "gói", 120000, 50, 0.5, "Cà phê Buôn Ma Thuột, rang mộc.", ""],
    ]  # fmt: skip
    records = (
        StockRecord.objects.filter(partner_id=producer.partner_id)
        .select_related("product")
        .prefetch_related("product__categories", "product__attribute_values__attribute")
        .order_by("product__title", "pk")
    )
    for record in records:
        product = record.product
        values = {v.attribute.code: v.value for v in product.attribute_values.all()}
        categories = sorted(product.categories.all(), key=lambda c: c.pk)
        rows.append(
            [
                record.partner_sku,
                product.title,
                categories[0].name if categories else "",
                values.get("unit") or "",
                int(record.price) if record.price is not None else "",
                record.num_in_stock if record.num_in_stock is not None else "",
                values.get("weight") or "",
                listings.description_text(product),
                product.upc or "",
            ]
        )
    return rows


def template_product_xlsx(producer) -> bytes:
    return workbook_xlsx(
        title=_("Products"),
        fields=FIELDS,
        rows=template_rows(producer),
        text_columns=("sku", "gtin"),
        notes=(
            _("One product per row, from row 2. The grey example row is never imported."),
            _("Product code (SKU): your own code for the product. A code you already have "
              "updates that product; a new code adds a product."),
            _("A new product needs a name, category, unit, price, stock and shipping weight. "
              "To update, fill in only what changes: empty cells change nothing."),
            _("Price in whole đồng, e.g. 125000 or 125.000. Units: %(units)s.")
            % {"units": ", ".join(listings.UNIT_VALUES)},
            _("New products, and changes of name, description, price, unit or category, wait "
              "for the operator's approval before buyers see them; stock changes at once."),
            _("Importing the same file again changes nothing."),
        ),
    )  # fmt: skip


def product_report_csv(record: ProductImport) -> bytes:
    columns = (
        (_("Product code (SKU)"), "sku"),
        (_("Product name"), "name"),
        (_("Reason"), "message"),
    )
    return rows_csv(record.report, columns)
