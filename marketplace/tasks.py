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
