from celery import shared_task


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
    name="nongsan.notify_preorder", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_preorder(preorder_id: int, language: str = "vi"):
    """After a conversion commits: tell the buyer of a pre-order the harvest did not reach.
    Idempotent (marketplace.fulfilment.notifications.notify_preorder)."""
    from marketplace.fulfilment.notifications import notify_preorder as send

    return send(preorder_id, language)
