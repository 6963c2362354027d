from celery import shared_task

from marketplace.core import jobs


@shared_task(name="nongsan.ping")
def ping() -> str:
    """Health check of the worker path: enqueue, run, return."""
    return "pong"


@shared_task(name="nongsan.expire_certificates")
def expire_certificates() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE "expire-certificates"): verified certificates past
    their end of validity become expired and lose their badges. Idempotent."""
    from marketplace.certificates.services import expire_certificates as expire

    return expire()


@shared_task(
    name="nongsan.notify_buyer", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_buyer(
    order_id: int,
    kind: str,
    parcel_id: int | None = None,
    language: str = "vi",
    line_id: int | None = None,
):
    """After an order's change commits (marketplace.fulfilment.notifications): e-mail and
    SMS to the buyer. Idempotent; retried when the mail or SMS server is unreachable."""
    from marketplace.fulfilment.notifications import notify

    return notify(order_id, kind, parcel_id, language, line_id=line_id)


@shared_task(
    name="nongsan.notify_producers", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_producers(order_id: int):
    """After an order commits (marketplace.fulfilment.producer_notices.order_to_pack): each
    producer is told what to pack. Idempotent; retried when a sender is unreachable."""
    from marketplace.fulfilment.producer_notices import notify_new_order

    return len(notify_new_order(order_id=order_id))


@shared_task(
    name="nongsan.producer_digests", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def producer_digests() -> int:
    """Every morning (CELERY_BEAT_SCHEDULE "producer-digests"): each producer's digest of
    parcels to pack and awaiting pickup. Idempotent: once a day per producer and channel."""
    from marketplace.fulfilment.producer_notices import send_digests

    return send_digests()


@shared_task(
    name="nongsan.pickup_lists", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def pickup_lists() -> int:
    """Every morning (CELERY_BEAT_SCHEDULE "pickup-lists"): each post office's list of
    packed parcels to pick up, per producer. Idempotent: once a day per post office."""
    from marketplace.fulfilment.producer_notices import send_pickup_lists

    return send_pickup_lists()


@shared_task(
    name="nongsan.notify_preorder", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_preorder(preorder_id: int, language: str = "vi"):
    """After a conversion commits: tell the buyer of a pre-order the harvest did not reach.
    Idempotent (marketplace.fulfilment.notifications.notify_preorder)."""
    from marketplace.fulfilment.notifications import notify_preorder as send

    return send(preorder_id, language)


@shared_task(
    name="nongsan.run_statement_import",
    bind=True,
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
    **jobs.TASK_OPTIONS,
)
def run_statement_import(self, import_id: int) -> str:
    """Apply one uploaded bank statement (marketplace.finance.transfers.run_statement_import)
    with a heartbeat on its row. Safe to deliver twice: the job is taken up once (or again
    when its worker died), and a line already recorded is never applied twice."""
    from marketplace.finance import transfers
    from marketplace.models import StatementImport

    with jobs.heartbeat(StatementImport, import_id, task=self):
        return transfers.run_statement_import(import_id)
