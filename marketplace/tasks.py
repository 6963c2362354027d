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
