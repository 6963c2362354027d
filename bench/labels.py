"""Label sheets: 1,000 unique serialised labels to PDF, against only encoding their QRs.

Run by `make bench` with DATABASE_URL and MEDIA_ROOT set (migrated and seeded here, like
bench/storefront.py). Prints:
- encode: time to compute the 1,000 QR matrices alone (qrcode, error correction M);
- sheet:  time for the whole task on a fresh sheet of 1,000 serialised labels (65/A4):
          serial numbers created in bulk, QRs encoded and drawn as vector paths, the PDF
          written to storage, progress saved every 100 labels;
- the ratio sheet / encode (target ≤ 1.5) and the peak memory of the sheet run
  (tracemalloc on a separate run, as it slows Python down; ru_maxrss: the process's
  peak).
"""

import contextlib
import os
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

N = int(os.environ.get("BENCH_LABELS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BASE = "https://nongsan.example"


def main():
    from traceability import labels, qr
    from traceability.models import LabelSheet, Lot

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    if not Lot.objects.exists():
        # Demo seeding prints console SMS and e-mail: keep them out of the results.
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            call_command("seed_demo", force=True, stdout=devnull)
    lot = Lot.objects.select_related("product", "producer__partner").order_by("pk").first()
    labels.register_fonts()  # once per worker process, as in production

    sheet_times, encode_times, peaks, sizes = [], [], [], []
    for _ in range(ROUNDS):
        sheet = LabelSheet.objects.create(lot=lot, size="L7651", count=N, serialised=True)
        start = time.perf_counter()
        result = labels.make_label_sheet(sheet.pk, BASE, "vi")
        sheet_times.append(time.perf_counter() - start)
        sheet.refresh_from_db()
        assert result == "done" and sheet.status == LabelSheet.Status.DONE, sheet.error
        sizes.append(sheet.file.size)

        # The same 1,000 links, encoded only.
        serials = list(sheet.serials.order_by("pk").values_list("serial", flat=True))
        urls = [qr.label_url(lot, BASE, s) for s in serials]
        start = time.perf_counter()
        for url in urls:
            qr.matrix(url)
        encode_times.append(time.perf_counter() - start)

    # Memory on one more sheet, apart: tracemalloc slows Python down several times.
    sheet = LabelSheet.objects.create(lot=lot, size="L7651", count=N, serialised=True)
    tracemalloc.start()
    labels.make_label_sheet(sheet.pk, BASE, "vi")
    peaks.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()

    sheet_time, encode_time = min(sheet_times), min(encode_times)
    ratio = sheet_time / encode_time
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"labels on {connection.vendor}: {N} serialised labels, 65/A4, best of {ROUNDS} "
        f"({lot.code}, link like {urls[0]})"
    )
    print(f"encode only   {encode_time * 1000:8.0f} ms  ({encode_time / N * 1000:.2f} ms a QR)")
    print(
        f"sheet to PDF  {sheet_time * 1000:8.0f} ms  ({sheet_time / N * 1000:.2f} ms a label, "
        f"PDF {sizes[0] / 1024:.0f} KB)"
    )
    print(f"ratio         {ratio:8.2f}x  (target <= 1.5x) {'OK' if ratio <= 1.5 else 'OVER'}")
    print(
        f"peak memory   {max(peaks) / 1024 / 1024:8.1f} MB traced during the task, "
        f"{rss_mb:.0f} MB process max RSS"
    )


if __name__ == "__main__":
    main()
