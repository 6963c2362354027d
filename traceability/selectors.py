"""What the public trace page reads about a lot, cold: three queries at most.

1. the lot with its product, producer (and shop), recall, the two cheap log counts and
   checkpoint figures verify_lot reads (LOG_ANNOTATIONS) and the name of the
   product's first photo;
2. the lot's signed records with their events;
3. the certificates its signed snapshot names (none when the snapshot names none).

A first scan of every new lot runs them, so they are prepared (marketplace.core.prepared):
compiled once per process and database connection, then only run. The budget (cold at
most 4 queries with the scan's INSERT under eager tasks, warm none) is asserted in
tests/traceability/test_trace_verdict.py and test_trace_page.py.
"""

from django.db.models import OuterRef, Subquery
from django.db.models.expressions import RawSQL
from oscar.core.loading import get_model

from marketplace.core.numbers import parse_id
from marketplace.core.prepared import PreparedQuery, id_stand_in

from .models import Lot, TraceRecord

ProductImage = get_model("catalogue", "ProductImage")

LOT_RELATED = ("product", "producer__partner", "recall")
LOG_ANNOTATIONS = {
    # Two cheap counts over the log, and the checkpoints, read with the lot in one query.
    "log_count": "SELECT COUNT(*) FROM traceability_tracerecord",
    "log_last": "SELECT MAX(position) FROM traceability_tracerecord",
    "checkpoint_size": "SELECT MAX(tree_size) FROM traceability_checkpoint",
    "checkpoints_after_lot": (
        "SELECT COUNT(*) FROM traceability_checkpoint "
        "WHERE traceability_checkpoint.created_at > traceability_lot.created_at"
    ),
}


def with_log_counts(queryset):
    """`queryset` of lots annotated with the counts verify_lot reads (no extra query)."""
    return queryset.annotate(**{name: RawSQL(sql, ()) for name, sql in LOG_ANNOTATIONS.items()})


def _page_lots():
    first_photo = (
        ProductImage.objects.filter(product_id=OuterRef("product_id"))
        .order_by("display_order", "pk")
        .values("original")[:1]
    )
    return with_log_counts(Lot.objects.select_related(*LOT_RELATED)).annotate(
        photo_name=Subquery(first_photo)
    )


_lot_by_short_code = PreparedQuery(lambda code: _page_lots().filter(short_code=code).order_by())
_lot_by_pk = PreparedQuery(lambda pk: _page_lots().filter(pk=pk).order_by(), stand_in=id_stand_in)
_records = PreparedQuery(
    lambda lot_id: (
        TraceRecord.objects.filter(lot_id=lot_id).select_related("event").order_by("seq")
    ),
    stand_in=id_stand_in,
)


def _certificates():
    from marketplace.models import Certificate

    return Certificate


_certificates_by_id = PreparedQuery(
    lambda *ids: _certificates().objects.filter(pk__in=ids), stand_in=id_stand_in
)


def page_lot(*, short_code: str | None = None, pk: int | None = None):
    """The lot as the trace page reads it (LOT_RELATED selected, the log counts and
    `photo_name` annotated), by its short code or its pk; None when there is none."""
    if short_code is not None:
        found = _lot_by_short_code(short_code)
    elif isinstance(pk, int) and parse_id(pk) is not None:
        found = _lot_by_pk(pk)
    else:
        found = []
    return found[0] if found else None


def lot_records(lot_pk: int) -> list:
    """The lot's signed records, by number, their events joined (one query)."""
    return _records(lot_pk)


def certificates_by_id(ids) -> dict:
    """{id: Certificate} for `ids` (the ids a signed snapshot names; one query, none when
    it names none). Only ids that can be a row's are looked up."""
    wanted = sorted({i for i in ids if isinstance(i, int) and parse_id(i) is not None})
    if not wanted:
        return {}
    return {c.pk: c for c in _certificates_by_id(*wanted)}
