"""Template tags of the recalls work: the lot page's "scans and recall" section, and the
buyer's order lines with their lots (one query for all lines)."""

from django import template

from .. import scans
from ..models import Recall, RecallNotice

register = template.Library()


@register.inclusion_tag("traceability/recall_section.html", takes_context=True)
def lot_recall_section(context, lot):
    """Scans of the lot (three queries) and its recall, or the form to recall it."""
    recall = Recall.objects.filter(lot_id=lot.pk).first()
    notices = None
    if recall is not None:
        rows = RecallNotice.objects.filter(recall=recall)
        notices = {"total": rows.count(), "sent": rows.exclude(sent_at=None).count()}
    return {
        "lot": lot,
        "recall": recall,
        "notices": notices,
        "stats": scans.lot_scan_summary(lot.pk),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def order_lines_traced(order):
    """The order's lines with their product, lot and recall, in one query."""
    return list(order.lines.select_related("product", "trace_lot__lot__recall").order_by("pk"))
