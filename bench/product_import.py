"""Product import: 2,000 products of one farmer from an Excel file, the same file again,
then a file changing every price.

Run by `make bench` with DATABASE_URL (migrated here; a farmer's shop and a category are
created). Generates an .xlsx of BENCH_PRODUCT_ROWS (default 2,000) products in the
template's layout (Vietnamese headers; prices as numbers and as "125.000" text; units and
categories by name) and imports it through the same service the Celery task runs
(farmers.imports.products: create_product_import checks and reads the upload,
run_product_import validates every row with the listing rules and writes it). Prints:
- upload:   checking and reading the file when it is uploaded (the request);
- import:   the task's work (read again, validate, create each product), rows/s;
- again:    the same file imported a second time: every row unchanged, nothing written;
- prices:   a file of code and price only, one price in ten changed (those products
            back to the operator's review while approval is required).
Each step prints this process's CPU time too (time.process_time: meaningful on a busy
machine, where the wall clock mostly measures waiting; PostgreSQL's own work is in its
server process, not counted).
Target: the import of 2,000 new products under 10 s, on SQLite and on PostgreSQL.
"""

import io
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

N = int(os.environ.get("BENCH_PRODUCT_ROWS", "2000"))
TARGET_S = 10.0
EMAIL = "bench-products@nongsan.test"
SHOP = "Hộ bà Trần Thị Bench"
CATEGORY = "Trái cây (bench)"


def setup():
    from oscar.core.loading import get_model

    from farmers.models import ProductImport
    from marketplace.core import geo
    from marketplace.demo.base import ensure_user
    from marketplace.models import ProducerProfile
    from marketplace.shops.services import open_producer_shop

    Category = get_model("catalogue", "Category")
    Product = get_model("catalogue", "Product")
    user = ensure_user(EMAIL, "Trần Thị Bench")
    partner = open_producer_shop(
        name=SHOP,
        kind=ProducerProfile.Kind.HOUSEHOLD,
        province_code=66,
        commune_code=geo.find_commune(66, "Krông Pắc"),
        owner=user,
    )
    if not Category.objects.filter(name=CATEGORY).exists():
        Category.add_root(name=CATEGORY)
    # A previous run's products (this is a benchmark database): start from none.
    Product.objects.filter(stockrecords__partner=partner).delete()
    ProductImport.objects.filter(created_by=user).delete()
    return user, ProducerProfile.objects.select_related("partner").get(partner=partner)


def workbook(rows: int, *, prices_only=False, bump=0) -> bytes:
    import openpyxl

    from farmers.imports.products import FIELDS

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Sản phẩm")
    labels = dict(FIELDS)
    if prices_only:
        sheet.append([str(labels["sku"]), str(labels["price"])])
    else:
        sheet.append([str(label) for _key, label in FIELDS])
    units = ("kg", "gói", "hộp", "Chai", "túi")
    for i in range(rows):
        price = 20_000 + (i % 500) * 1_000 + (bump if i % 10 == 0 else 0)
        if prices_only:
            sheet.append([f"SP-{i:05d}", price])
            continue
        sheet.append([
            f"SP-{i:05d}",
            f"Sầu riêng Ri6 Krông Pắc loại {i}",
            CATEGORY,
            units[i % len(units)],
            price if i % 2 else f"{price:,}".replace(",", "."),  # numbers and "125.000"
            i % 300,
            round(0.25 + (i % 8) / 4, 2),
            f"Sầu riêng vườn nhà, lô {i}.",
            "",
        ])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(user, producer, data: bytes, name: str):
    from farmers.imports import products
    from farmers.models import ProductImport

    start, upload_cpu = time.perf_counter(), time.process_time()
    record = products.create_product_import(
        actor=user, producer=producer, upload=SimpleUploadedFile(name, data), language="vi"
    )
    upload_s = time.perf_counter() - start
    upload_cpu = time.process_time() - upload_cpu
    mapping = products.guess_product_mapping(record.headers)
    assert not products.check_product_mapping(mapping, columns=len(record.headers)), mapping
    # What start_product_import saves before it enqueues the task (here run in this process).
    ProductImport.objects.filter(pk=record.pk).update(mapping=mapping, queued_at=timezone.now())
    start, cpu = time.perf_counter(), time.process_time()
    result = products.run_product_import(record.pk)
    import_s = time.perf_counter() - start
    record.cpu_s = time.process_time() - cpu  # this process's CPU (SQLite runs in it)
    record.upload_cpu_s = upload_cpu
    record.refresh_from_db()
    assert result == "done", (result, record.error)
    if record.error_count:
        print("  errors:", [e for e in record.report if e["outcome"] == "error"][:5])
    return record, upload_s, import_s


def main():
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    user, producer = setup()
    data = workbook(N)
    print(f"product import on {connection.vendor}: {N} rows, .xlsx of {len(data) / 1024:.0f} KB")
    record, upload_s, import_s = run(user, producer, data, "san-pham.xlsx")
    assert record.created_count == N, (record.created_count, record.error_count)
    total = upload_s + import_s
    print(f"upload        {upload_s:8.2f} s  (check and read the file in the request)")
    print(
        f"import        {import_s:8.2f} s  ({N / import_s:,.0f} rows/s; created {N}; "
        f"{record.cpu_s:.2f} s of CPU, load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"upload+import {total:8.2f} s  (target < {TARGET_S:.0f} s) "
        f"{'OK' if total < TARGET_S else 'OVER'}; "
        f"{record.upload_cpu_s + record.cpu_s:.2f} s of CPU"
    )
    again, upload_again_s, again_s = run(user, producer, data, "san-pham.xlsx")
    changed = again.created_count or again.updated_count or again.unchanged_count != N
    print(
        f"again         {upload_again_s + again_s:8.2f} s  ({N / again_s:,.0f} rows/s; unchanged "
        f"{again.unchanged_count}; {again.upload_cpu_s + again.cpu_s:.2f} s of CPU) "
        f"{'CHANGED SOMETHING' if changed else 'nothing changed'}"
    )
    assert not changed
    prices, upload_p_s, prices_s = run(
        user, producer, workbook(N, prices_only=True, bump=500), "gia.xlsx"
    )
    print(
        f"prices        {upload_p_s + prices_s:8.2f} s  ({N / prices_s:,.0f} rows/s; updated "
        f"{prices.updated_count}, unchanged {prices.unchanged_count}; "
        f"{prices.upload_cpu_s + prices.cpu_s:.2f} s of CPU)"
    )
    assert prices.updated_count == len(range(0, N, 10))


if __name__ == "__main__":
    main()
