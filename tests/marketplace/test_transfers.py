"""VietQR transfers received: marked by the operator, or matched from a bank statement.

A transfer is applied only when it pays exactly what a VietQR order still owes; every
other statement line is listed with the reason and never applied; re-importing the same
statement (even twice at the same moment) applies nothing twice; bad files get a clear
message, never a 500.
"""

import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from oscar.core.loading import get_model

from marketplace.core import jobs
from marketplace.core.money import format_dong
from marketplace.finance import transfers
from marketplace.models import BankTransfer, StatementImport
from marketplace.payments.state import payment_state
from tests.conftest import need
from tests.marketplace.orders import checkout
from tests.marketplace.test_farmer_products import client_for, users

Order = get_model("order", "Order")
PaymentEvent = get_model("order", "PaymentEvent")

DURIAN = "NS0005"  # krongpac, 120.000 ₫ a kg
PEPPER = "NS0009"  # chuse


def fresh(order):
    return Order.objects.get(pk=order.pk)


def owed(order) -> int:
    return int(payment_state(fresh(order)).outstanding)


def dots(value) -> str:
    return f"{int(value):,}".replace(",", ".")


@pytest.fixture
def people(demo):
    return users()


@pytest.fixture
def place(people):
    """Place a real order as the demo buyer: place({"NS0005": 1}, method="vietqr")."""

    def _place(quantities=None, method="vietqr"):
        return checkout(client_for(people["buyer"]), quantities or {DURIAN: 1}, method=method)

    return _place


# --- Marking a transfer received -------------------------------------------------------------


def test_a_vietqr_order_awaits_its_transfer(place):
    order = place()
    state = payment_state(fresh(order))
    assert state.code == "awaiting_transfer"
    assert state.outstanding == order.total_incl_tax > 0


def test_marking_the_full_amount_received_pays_the_order(place, people):
    order = place()
    total = order.total_incl_tax
    transfer = transfers.mark_received(
        order, people["operator"], total, received_on=date(2025, 3, 14), note="VCB FT123"
    )
    assert transfer.recorded_by == people["operator"]
    assert transfer.amount == total and transfer.transaction_id is None
    assert transfer.received_on == date(2025, 3, 14) and transfer.description == "VCB FT123"
    state = payment_state(fresh(order))
    assert (state.code, state.paid, state.outstanding) == ("paid", total, 0)
    assert PaymentEvent.objects.filter(order=order, event_type__code="paid").count() == 1


def test_a_partial_transfer_then_the_rest(place, people):
    order = place()
    total = order.total_incl_tax
    transfers.mark_received(order, people["operator"], "50.000")
    state = payment_state(fresh(order))
    assert (state.code, state.paid, state.outstanding) == ("partly_paid", 50000, total - 50000)
    transfers.mark_received(order, people["operator"], total - 50000)
    assert payment_state(fresh(order)).code == "paid"
    assert BankTransfer.objects.filter(order=order).count() == 2


def test_more_than_is_owed_is_refused_and_nothing_is_recorded(place, people):
    order = place()
    total = order.total_incl_tax
    with translation.override("en"), pytest.raises(transfers.TransferError) as refused:
        transfers.mark_received(order, people["operator"], total + 1)
    with translation.override("en"):
        owed = f"{format_dong(total)} still owed on order {order.number}"
    assert owed in str(refused.value)
    transfers.mark_received(order, people["operator"], total)
    with translation.override("en"), pytest.raises(transfers.TransferError, match="already paid"):
        transfers.mark_received(order, people["operator"], 1)
    assert BankTransfer.objects.filter(order=order).count() == 1
    assert payment_state(fresh(order)).paid == total


def test_a_cash_on_delivery_order_cannot_be_marked_transferred(place, people):
    order = place(method="cod")
    with (
        translation.override("en"),
        pytest.raises(transfers.TransferError, match="not paid by bank transfer"),
    ):
        transfers.mark_received(order, people["operator"], 1000)
    assert not BankTransfer.objects.exists()
    assert payment_state(fresh(order)).code == "on_delivery"


@pytest.mark.parametrize("amount", [0, -5000, "0", "-1", "abc", "", "12,5", Decimal("10.5"), None])
def test_amounts_that_are_not_a_positive_whole_number_of_dong_are_refused(place, people, amount):
    order = place()
    with pytest.raises(transfers.TransferError):
        transfers.mark_received(order, people["operator"], amount)
    assert not BankTransfer.objects.exists()
    assert payment_state(fresh(order)).paid == 0


# --- Reading what banks write ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.250.000", 1250000),
        ("1,250,000", 1250000),
        ("1250000", 1250000),
        ("1.250.000 VND", 1250000),
        ("1,250,000 VND", 1250000),
        ("1.250.000đ", 1250000),
        ("1.250.000 ₫", 1250000),
        ("1,250,000.00", 1250000),
        ("1.250.000,00", 1250000),
        ("1250000.00", 1250000),
        ("+140.000", 140000),
        ("-140.000", -140000),
        ("(140.000)", -140000),
        ("\u00a0140\u00a0000 ", 140000),
        ("500", 500),
        ("1.000", 1000),
    ],
)
def test_amounts_as_banks_write_them(text, expected):
    assert transfers.parse_amount(text) == expected


@pytest.mark.parametrize(
    "text", ["", None, "abc", "1.2.3", "12,5", "1.250.000,50", "1..000", "--5"]
)
def test_unreadable_or_fractional_amounts(text):
    assert transfers.parse_amount(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14/03/2025", date(2025, 3, 14)),
        ("2025-03-14", date(2025, 3, 14)),
        ("14/03/2025 09:41:07", date(2025, 3, 14)),
        ("2025-03-14T09:41:07", date(2025, 3, 14)),
        ("4/3/2025", date(2025, 3, 4)),
        ("31/02/2025", None),
        ("hôm qua", None),
    ],
)
def test_dates_as_banks_write_them(text, expected):
    assert transfers.parse_date(text) == expected


@pytest.mark.parametrize(
    "description, expected",
    [
        ("100001", ["100001"]),
        ("MBVCB.123.100001.NGUYEN VAN A chuyen tien", ["100001"]),
        ("IBFT DH100001 thanh toan", ["100001"]),
        ("Thanh toán đơn hàng 100001-Nguyễn Văn A", ["100001"]),
        ("100001NGUYEN VAN A", ["100001"]),
        ("FT24073123456789 chuyen tien", []),  # a bank's own transaction number
        ("CT 123 0912345678", []),  # a counter and a phone number
        ("", []),
    ],
)
def test_order_numbers_are_whole_tokens_of_the_description(description, expected):
    assert transfers.order_number_tokens(description) == expected


# --- Statement import ------------------------------------------------------------------------

PREAMBLE = (
    "NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM (VIETCOMBANK)\n"
    "SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT\n"
    "Số tài khoản:,1023456789\n"
    "Chủ tài khoản:,CONG TY NONG SAN\n"
    "Từ ngày:,01/03/2025,Đến ngày:,31/03/2025\n"
    "\n"
)
HEADER = "STT,Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung\n"


def statement(rows, preamble=PREAMBLE, header=HEADER, bom=True, delimiter=","):
    """A Vietcombank-like export: preamble, header, one row per line, a summary row."""
    body = preamble + header
    for i, (day, ref, debit, credit, text) in enumerate(rows, 1):
        cells = [str(i), day, ref, debit, credit, "", text]
        body += delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in cells)
        body += "\n"
    body += delimiter.join(["", "Tổng cộng", "", "", "", "", ""]) + "\n"
    data = body.encode("utf-8")
    return SimpleUploadedFile(
        "saoke.csv", (b"\xef\xbb\xbf" if bom else b"") + data, content_type="text/csv"
    )


@pytest.fixture
def orders(place, people):
    """Four orders: VietQR to match, VietQR whose amount will differ, VietQR already
    paid, and one paid on delivery."""
    matched = place({DURIAN: 1})
    differs = place({PEPPER: 1})
    paid = place({DURIAN: 2})
    transfers.mark_received(paid, people["operator"], paid.total_incl_tax)
    cod = place({PEPPER: 2}, method="cod")
    return {"matched": matched, "differs": differs, "paid": paid, "cod": cod}


def realistic_rows(orders):
    m, d, p, c = (orders[k] for k in ("matched", "differs", "paid", "cod"))
    return [
        # matched: the bank glued its own prefix and the sender's name on
        (
            "14/03/2025 09:41:07",
            "FT25073640211",
            "",
            f"{int(m.total_incl_tax):,}".replace(",", "."),
            f"MBVCB.8842.{m.number}.NGUYEN VAN A chuyen tien",
        ),
        # the buyer sent less than the order's total
        (
            "14/03/2025 10:02:55",
            "FT25073640388",
            "",
            "100.000",
            f"IBFT {d.number} Tran Thi B",
        ),
        # an order number we never issued
        ("14/03/2025 11:15:00", "FT25073640400", "", "250.000", "Thanh toan don 987654"),
        # no order number at all
        ("15/03/2025", "FT25074100001", "", "300.000", "Chuyen tien an trua"),
        # the same bank transaction twice in the file
        (
            "14/03/2025 09:41:07",
            "FT25073640211",
            "",
            f"{int(m.total_incl_tax):,}".replace(",", "."),
            f"MBVCB.8842.{m.number}.NGUYEN VAN A chuyen tien",
        ),
        # money out: a bank fee
        ("15/03/2025", "FT25074100002", "11.000", "", "Phi SMS Banking T03/2025"),
        # an order already paid by hand
        (
            "16/03/2025",
            "FT25075100003",
            "",
            f"{int(p.total_incl_tax):,}".replace(",", "."),
            f"{p.number} chuyen khoan",
        ),
        # a cash-on-delivery order
        (
            "16/03/2025",
            "FT25075100004",
            "",
            f"{int(c.total_incl_tax):,}".replace(",", "."),
            f"DH{c.number}",
        ),
    ]


def by_line(report):
    return {line.number: line for line in report.lines}


def test_a_realistic_statement_applies_exact_matches_and_lists_the_rest(orders, people):
    m, d, p, c = (orders[k] for k in ("matched", "differs", "paid", "cod"))
    with translation.override("en"):
        report = transfers.import_statement(statement(realistic_rows(orders)), people["operator"])
    lines = by_line(report)
    first = 8  # 6 preamble lines + header: the first transaction is line 8 of the file
    assert [line.number for line in report.applied] == [first]
    applied = lines[first]
    assert (applied.order_number, applied.amount) == (m.number, m.total_incl_tax)
    assert applied.date == date(2025, 3, 14)

    reasons = {line.number: line.reason for line in report.mismatches}
    with translation.override("en"):
        expected, received = format_dong(d.total_incl_tax), format_dong(100000)
    assert reasons[first + 1] == (
        f"Amount differs: order {d.number} expects {expected}, the bank received {received}."
    )
    assert lines[first + 1].expected == d.total_incl_tax
    assert reasons[first + 2] == "Unknown order 987654."
    assert reasons[first + 3] == "No order number found in the description."
    assert reasons[first + 4].startswith("Duplicate line")
    assert reasons[first + 6] == f"Order {p.number} is already paid."
    assert reasons[first + 7] == f"Order {c.number} is not paid by bank transfer."
    assert [line.number for line in report.ignored] == [first + 5, first + 8]
    assert lines[first + 5].reason == "Debit (money out): ignored."

    transfer = BankTransfer.objects.get(transaction_id="FT25073640211")
    assert (transfer.order, transfer.amount, transfer.recorded_by) == (
        m,
        m.total_incl_tax,
        people["operator"],
    )
    assert transfer.received_on == date(2025, 3, 14)
    assert payment_state(fresh(m)).code == "paid"
    assert payment_state(fresh(d)).code == "awaiting_transfer"
    assert payment_state(fresh(p)).paid == p.total_incl_tax  # not paid twice
    assert payment_state(fresh(c)).code == "on_delivery"
    assert BankTransfer.objects.count() == 2  # the hand-marked one and the matched one


def test_importing_the_same_statement_again_applies_nothing(orders, people):
    rows = realistic_rows(orders)
    transfers.import_statement(statement(rows), people["operator"])
    events = PaymentEvent.objects.count()
    with translation.override("en"):
        again = transfers.import_statement(statement(rows), people["operator"])
    assert again.applied == []
    assert [line.reason for line in again.already] == ["Already recorded by an earlier import."]
    assert len(again.mismatches) == 6  # still listed, still never applied
    assert PaymentEvent.objects.count() == events
    assert BankTransfer.objects.count() == 2


def test_a_later_statement_pays_the_rest_of_a_partly_paid_order(place, people):
    order = place()
    transfers.mark_received(order, people["operator"], 20000)
    rest = order.total_incl_tax - 20000
    rows = [("17/03/2025", "FT1", "", dots(rest), f"{order.number}")]
    report = transfers.import_statement(statement(rows), people["operator"])
    assert len(report.applied) == 1
    assert payment_state(fresh(order)).code == "paid"


def test_semicolons_english_headers_no_bom_and_no_transaction_id(place, people):
    order = place()
    text = (
        "Date;Description;Debit;Credit\n"
        f"2025-03-14;TRANSFER {order.number} NGUYEN VAN A;;{int(order.total_incl_tax)}\n"
        "2025-03-14;ATM WITHDRAWAL;500000;\n"
    )
    report = transfers.import_statement(io.BytesIO(text.encode()), people["operator"])
    assert len(report.applied) == 1 and len(report.ignored) == 1
    transfer = BankTransfer.objects.get()
    assert transfer.transaction_id.startswith("sha1:")
    # No transaction id from the bank: the derived one is the same on re-import.
    again = transfers.import_statement(io.BytesIO(text.encode()), people["operator"])
    assert again.applied == [] and len(again.already) == 1
    assert BankTransfer.objects.count() == 1


def test_a_single_signed_amount_column_and_other_aliases(place, people):
    order = place()
    amount = f"{int(order.total_incl_tax):,} VND"
    text = (
        "Ngày GD,Mã giao dịch,Diễn giải,Số tiền\n"
        f'14/03/2025,TCB001,"{order.number} thanh toan","{amount}"\n'
        '14/03/2025,TCB002,"Tra phi","-22,000 VND"\n'
    )
    report = transfers.import_statement(io.BytesIO(text.encode("utf-8-sig")), people["operator"])
    assert [line.order_number for line in report.applied] == [order.number]
    assert [line.transaction_id for line in report.ignored] == [""]
    assert BankTransfer.objects.get().transaction_id == "TCB001"


def test_two_order_numbers_in_one_line_are_not_guessed(place, people):
    first, second = place(), place()
    rows = [
        ("14/03/2025", "FT9", "", dots(first.total_incl_tax), f"{first.number} {second.number}")
    ]
    with translation.override("en"):
        report = transfers.import_statement(statement(rows), people["operator"])
    assert report.applied == []
    assert report.mismatches[0].reason.startswith("Several order numbers")
    assert not BankTransfer.objects.exists()


def test_an_unreadable_amount_or_date_is_listed(place, people):
    order = place()
    rows = [
        ("14/03/2025", "FT1", "", "một triệu", f"{order.number}"),
        ("32/13/2025", "FT2", "", dots(order.total_incl_tax), f"{order.number}"),
    ]
    with translation.override("en"):
        report = transfers.import_statement(statement(rows), people["operator"])
    assert [line.reason for line in report.mismatches] == [
        "Unreadable amount: một triệu",
        "Unreadable date: 32/13/2025",
    ]
    assert not BankTransfer.objects.exists()


# --- Bad files -------------------------------------------------------------------------------


def png_bytes():
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


BAD_FILES = {
    "empty": (b"", "The file is empty."),
    "blank": (b"\n\n  \n", "The file is empty."),
    "image": (png_bytes(), "This is not a CSV file."),
    "excel": (b"PK\x03\x04" + b"x" * 100, "This is not a CSV file."),
    "not utf-8": (b"Ng\xe0y,N\xf4i dung,Ghi c\xf3\n14/03/2025,Chuy\xean,1000\n", "UTF-8"),
    "no columns": (b"a,b,c\n1,2,3\n", "No statement table found"),
    "no amount column": ("Ngày,Nội dung\n14/03/2025,x\n".encode(), "No statement table found"),
    "header only": (HEADER.encode(), "The statement has no transaction lines."),
    "too big": (b"Ngay,Noi dung,Ghi co\n" + b"x" * (2 * 1024 * 1024), "larger than 2 MB"),
    "too many lines": (
        b"Ngay,Noi dung,Ghi co\n" + b"14/03/2025,x,1000\n" * 5001,
        "more than 5,000 lines",
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_get_a_clear_message(people, name):
    data, message = BAD_FILES[name]
    with translation.override("en"), pytest.raises(transfers.StatementError) as refused:
        transfers.import_statement(SimpleUploadedFile("x.csv", data), people["operator"])
    assert message.replace("5,000", "5.000") in str(refused.value)
    assert not BankTransfer.objects.exists()


def test_at_most_5000_lines_are_read(place, people):
    order = place()
    text = "Ngày,Nội dung,Ghi có\n" + "14/03/2025,an trua,1000\n" * 4999
    text += f"14/03/2025,{order.number},{int(order.total_incl_tax)}\n"
    report = transfers.import_statement(io.BytesIO(text.encode()), people["operator"])
    assert len(report.lines) == 5000
    assert len(report.applied) == 1
    assert len(report.mismatches) == 4999  # 1 "no order number", 4998 duplicates


# --- Pages -----------------------------------------------------------------------------------

AWAITING = reverse("transfers:awaiting")
IMPORT = reverse("transfers:import")


def test_the_urls_are_vietnamese():
    assert AWAITING == "/quan-tri/chuyen-khoan/"
    assert IMPORT == "/quan-tri/chuyen-khoan/sao-ke/"
    assert reverse("transfers:mark-received", args=[7]) == (
        "/quan-tri/chuyen-khoan/don-hang/7/da-nhan/"
    )


def test_the_awaiting_list_offers_to_mark_the_outstanding_amount(place, people):
    first, second = place(), place({PEPPER: 1})
    cod = place(method="cod")
    transfers.mark_received(second, people["operator"], 10000)
    operator = client_for(people["operator"])
    response = operator.get(AWAITING)
    assert response.status_code == 200
    page = response.content.decode()
    assert first.number in page and second.number in page
    assert cod.number not in page
    assert f'value="{int(first.total_incl_tax)}"' in page
    assert f'value="{int(second.total_incl_tax) - 10000}"' in page
    assert f"{dots(second.total_incl_tax - 10000)}\xa0₫" in page
    assert 'name="csrfmiddlewaretoken"' in page

    found = operator.get(AWAITING, {"q": first.number})
    assert [row["order"] for row in found.context["rows"]] == [first]
    none = operator.get(AWAITING, {"q": "999999"})
    assert none.context["rows"] == [] and "999999" in none.content.decode()


def test_the_awaiting_list_is_paginated_in_constant_queries(place, people):
    operator = client_for(people["operator"])
    place()
    operator.get(AWAITING)
    with CaptureQueriesContext(connection) as one:
        assert operator.get(AWAITING).status_code == 200
    for _ in range(3):
        place()
    with CaptureQueriesContext(connection) as four:
        page = operator.get(AWAITING).content.decode()
    assert page.count('name="amount"') == 4
    # Buyer, address and payment source come with the order: no query per row.
    assert len(four) == len(one)
    assert operator.get(AWAITING, {"page": "abc"}).status_code == 200
    assert operator.get(AWAITING, {"page": "999"}).status_code == 200


def test_marking_received_from_the_page(place, people):
    order = place()
    operator = client_for(people["operator"])
    url = reverse("transfers:mark-received", args=[order.pk])
    response = operator.post(
        url,
        {"amount": dots(order.total_incl_tax), "received_on": "2025-03-14", "next": AWAITING},
        follow=True,
    )
    assert response.status_code == 200
    assert payment_state(fresh(order)).code == "paid"
    transfer = BankTransfer.objects.get()
    assert transfer.recorded_by == people["operator"] and transfer.received_on == date(2025, 3, 14)
    page = response.content.decode()
    assert order.number in page  # the success message (and the recent transfers)
    assert f'id="order-{order.number}"' not in page  # no longer awaited


@pytest.mark.parametrize(
    "data",
    [
        {"amount": ""},
        {"amount": "abc"},
        {"amount": "0"},
        {"amount": "-100"},
        {"amount": "999.999.999"},  # more than is owed
        {"amount": "1000", "received_on": "2999-01-01"},
        {"amount": "1000", "received_on": "not a date"},
        {"amount": "1000", "note": "x" * 201},
    ],
)
def test_bad_input_on_the_page_records_nothing(place, people, data):
    order = place()
    operator = client_for(people["operator"])
    url = reverse("transfers:mark-received", args=[order.pk])
    response = operator.post(url, data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == AWAITING
    assert not BankTransfer.objects.exists()
    assert payment_state(fresh(order)).paid == 0
    assert "alert-danger" in response.content.decode() or "alert-error" in (
        response.content.decode()
    )


def test_marking_an_unknown_order_is_404_and_a_get_is_405(people):
    operator = client_for(people["operator"])
    assert (
        operator.post(
            reverse("transfers:mark-received", args=[999999]), {"amount": "1"}
        ).status_code
        == 404
    )
    assert operator.get(reverse("transfers:mark-received", args=[1])).status_code == 405


def test_a_next_outside_the_site_is_not_followed(place, people):
    order = place()
    operator = client_for(people["operator"])
    response = operator.post(
        reverse("transfers:mark-received", args=[order.pk]),
        {"amount": "1000", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == AWAITING


def test_the_import_page_shows_applied_lines_and_mismatches(
    orders, people, django_capture_on_commit_callbacks
):
    """The statement is applied by a background job; the operator is sent to its page,
    which shows the progress, then the report."""
    m, d = orders["matched"], orders["differs"]
    operator = client_for(people["operator"])
    assert operator.get(IMPORT).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(IMPORT, {"statement": statement(realistic_rows(orders))})
    job = StatementImport.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse("transfers:statement", args=[job.pk])
    assert job.status == "done" and job.lines_done == job.lines_total > 0
    response = operator.get(response["Location"])
    assert response.status_code == 200
    page = response.content.decode()
    report = response.context["report"]
    assert [line.order_number for line in report.applied] == [m.number]
    assert 'id="applied-lines"' in page and 'id="mismatch-lines"' in page
    assert f"{dots(d.total_incl_tax)}" in page and "987654" in page
    assert "Chuyen tien an trua" in page
    assert 'http-equiv="refresh"' not in page  # finished: no more refreshing
    assert payment_state(fresh(m)).code == "paid"
    # The upload page lists it, so the report stays reachable by clicking.
    assert reverse("transfers:statement", args=[job.pk]) in operator.get(IMPORT).content.decode()
    # The same file again: nothing applied, said so.
    with django_capture_on_commit_callbacks(execute=True):
        again = operator.post(IMPORT, {"statement": statement(realistic_rows(orders))})
    again = operator.get(again["Location"])  # once the worker has applied it
    assert again.context["report"].applied == []
    assert len(again.context["report"].already) == 1
    assert BankTransfer.objects.filter(transaction_id__isnull=False).count() == 1


def test_a_statement_import_shows_its_progress_and_a_dead_worker_is_noticed(
    orders, people, django_capture_on_commit_callbacks
):
    operator = client_for(people["operator"])
    with django_capture_on_commit_callbacks(execute=False):  # no worker takes it up yet
        response = operator.post(IMPORT, {"statement": statement(realistic_rows(orders))})
    job = StatementImport.objects.latest("pk")
    assert job.status == "pending" and job.lines_total > 0
    # The statement is kept privately: no public address.
    assert job.file.storage is not None and not job.file.name.startswith("/")
    page = operator.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and 'id="statement-progress"' in page
    # A worker took it up, got halfway, and died: after jobs.DEAD_AFTER the page says so.
    stale = timezone.now() - jobs.DEAD_AFTER - timedelta(seconds=5)
    StatementImport.objects.filter(pk=job.pk).update(
        status="running", started_at=stale, heartbeat_at=stale, worker="elsewhere:1",
        lines_done=1, attempts=1,
    )  # fmt: skip
    page = operator.get(response["Location"]).content.decode()
    job.refresh_from_db()
    assert job.status == "failed" and job.error  # jobs.stall_reason: when it stopped
    assert 'id="statement-error"' in page and 'http-equiv="refresh"' not in page
    # Run again: the whole statement is applied, each line once.
    with django_capture_on_commit_callbacks(execute=True):
        retried = operator.post(reverse("transfers:statement-retry", args=[job.pk]))
    assert retried["Location"] == response["Location"]
    job.refresh_from_db()
    assert job.status == "done" and job.attempts == 1
    assert payment_state(fresh(orders["matched"])).code == "paid"


@pytest.mark.parametrize("name", ["empty", "image", "not utf-8", "no columns", "too big"])
def test_bad_files_on_the_page_are_a_message_not_a_500(people, name):
    data, _message = BAD_FILES[name]
    operator = client_for(people["operator"])
    response = operator.post(IMPORT, {"statement": SimpleUploadedFile("x.csv", data)})
    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors["statement"]
    assert 'role="alert"' in response.content.decode()


def test_no_file_on_the_page_is_a_message(people):
    response = client_for(people["operator"]).post(IMPORT, {})
    assert response.status_code == 200
    assert response.context["form"].errors["statement"]


# --- Who may use the pages -------------------------------------------------------------------


def urls_and_methods():
    return [
        ("get", AWAITING),
        ("get", IMPORT),
        ("post", IMPORT),
        ("post", reverse("transfers:mark-received", args=[1])),
    ]


@pytest.mark.parametrize(
    "role", ["anonymous", "buyer", "farmer", "branch_staff", "post_office_staff"]
)
def test_only_the_operator_may_use_the_transfer_pages(place, people, role):
    order = place()
    client = client_for(people[role])
    for method, url in urls_and_methods():
        url = url.replace("/1/", f"/{order.pk}/")
        response = getattr(client, method)(url, {"amount": "1000"} if method == "post" else {})
        if role == "anonymous":
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/"), url
        else:
            assert response.status_code == 403, (role, url)
    assert not BankTransfer.objects.exists()
    assert client_for(people["operator"]).get(AWAITING).status_code == 200


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_statement_imported_twice_at_once_applies_each_line_once(django_db_setup):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    people = users()
    buyer = client_for(people["buyer"])
    placed = [checkout(buyer, {DURIAN: 1}, method="vietqr") for _ in range(3)]
    rows = [
        ("14/03/2025", f"FT{i}", "", dots(order.total_incl_tax), f"IBFT {order.number}")
        for i, order in enumerate(placed)
    ]
    data = statement(rows).read()

    reports, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            reports.append(
                transfers.import_statement(SimpleUploadedFile("s.csv", data), people["operator"])
            )
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(len(report.applied) for report in reports) == 3
    assert sum(len(report.already) for report in reports) == 3
    assert BankTransfer.objects.filter(order__in=placed).count() == 3
    for order in placed:
        state = payment_state(fresh(order))
        assert (state.code, state.paid) == ("paid", order.total_incl_tax)
        assert PaymentEvent.objects.filter(order=order).count() == 1
