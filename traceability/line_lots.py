"""traceability's answer to marketplace.core.lots: which lot an order line was packed
from (LineLot), which lots it may be packed from, and linking one (recalls.link_line).
Registered in TraceabilityConfig.ready()."""

from django.core.exceptions import ObjectDoesNotExist

from marketplace.core.lots import NoLots

from . import recalls, safety
from .models import LineLot, Lot


class LineLots(NoLots):
    def with_lots(self, lines):
        return lines.select_related("trace_lot__lot")

    def lot_of(self, line):
        try:
            return line.trace_lot.lot
        except ObjectDoesNotExist:
            return None

    def choices(self, *, partner_id, product_ids) -> dict:
        by_product: dict[int, list] = {}
        if product_ids:
            lots = (
                Lot.objects.filter(
                    producer__partner_id=partner_id,
                    product_id__in=product_ids,
                    recall__isnull=True,
                )
                .select_related("recall")
                .order_by("-created_at", "-pk")
            )
            # Only lots that may be sold today (expired, pre-harvest: traceability.safety).
            for lot in safety.sellable(lots):
                by_product.setdefault(lot.product_id, []).append(lot)
        return by_product

    def linked(self, line_ids) -> dict:
        return {
            line_id: (lot_id, code)
            for line_id, lot_id, code in LineLot.objects.filter(line_id__in=line_ids).values_list(
                "line_id", "lot_id", "lot__code"
            )
        }

    def link_placed(self, *, line, source_id) -> None:
        LineLot.objects.create(line=line, lot_id=source_id)

    def link(self, *, line, lot_id, by) -> None:
        recalls.link_line(line=line, lot_id=lot_id, by=by)
