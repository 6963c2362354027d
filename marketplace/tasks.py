from celery import shared_task


@shared_task(name="nongsan.ping")
def ping() -> str:
    """Health check of the worker path: enqueue, run, return."""
    return "pong"
