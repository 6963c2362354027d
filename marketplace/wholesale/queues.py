"""The operator's queue of business buyers to approve, on the operator's home
(marketplace.core.queues)."""

from django.utils.translation import gettext_lazy as _

from marketplace.core.queues import register_operator_queue


def _count() -> int:
    from marketplace.wholesale.selectors import pending_count

    return pending_count()


def register() -> None:
    register_operator_queue(
        label=_("Business buyers to approve"), url_name="wholesale:queue", count=_count
    )
