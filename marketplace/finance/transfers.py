"""VietQR bank transfers received: marked by the operator, or matched from a bank statement.

Two ways in, one way to pay: both create a ``BankTransfer`` and call ``record_payment``
in the same transaction, after locking the order's payment source, so a transfer is
never counted twice and an order is never paid more than its total.

Statement import (``import_statement``) reads the CSV that Vietnamese banks export
(Vietcombank, BIDV, Techcombank, MB…): UTF-8 with or without BOM, ``,`` ``;`` or tab
separated, a few lines of preamble before the table, headers in Vietnamese or English.
For each credit line it looks for one of our order numbers in the description (banks
prefix it with their own text and often strip spaces and punctuation) and applies the
line only when the amount equals what that VietQR order still owes. Everything else is
listed with a reason and never applied. Each line is recorded under its bank transaction
id (or, when the bank gives none, a hash of date, amount and description), which is
unique: importing the same statement again applies nothing twice.
"""

import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.core.money import format_dong, parse_dong
from marketplace.core.text import strip_marks
from marketplace.models import BankTransfer
from marketplace.payments.state import VIETQR, PaymentError, payment_state, record_payment

Order = get_model("order", "Order")
Source = get_model("payment", "Source")

MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 5000
HEADER_SEARCH_ROWS = 40  # bank exports start with a preamble (bank, account, period…)
TRANSACTION_ID_MAX = 100
DESCRIPTION_MAX = 500
# Our order numbers are Oscar's (100000 + basket id): 6 to 8 digits.
ORDER_NUMBER_RE = re.compile(r"^[1-9]\d{5,7}$")


class TransferError(Exception):
    """A transfer that must not be recorded; the message is for the operator."""


class StatementError(Exception):
    """A statement file that cannot be read at all; the message is for the operator."""


# --- Amounts and dates as banks write them ---------------------------------------------------


def bank_text(text: str) -> str:
    """Lower-case ASCII without diacritics (đ → d), as bank systems write text; unlike
    the search fold, punctuation is kept (headers such as "Số tiền (VND)")."""
    return strip_marks(text).lower()


_FRACTION_RE = re.compile(r"^(?P<whole>.*\d)[.,](?P<fraction>\d{1,2})$")
_UNIT_RE = re.compile(r"\s*(?:vnd|vnđ|dong|đồng|đ|₫)\s*$", re.IGNORECASE)


def parse_amount(text) -> Decimal | None:
    """Whole đồng from "1.250.000", "1,250,000", "1250000", "1.250.000 VND", "+50.000",
    "-50.000", "(50.000)", "1,250,000.00"; None when empty or unreadable (or not whole).
    Banks add a sign, brackets and zero decimals; the number itself is read by
    marketplace.core.money.parse_dong, like every amount typed on the site."""
    if text is None:
        return None
    raw = " ".join(str(text).replace("\u00a0", " ").split())
    sign = 1
    if raw.startswith("(") and raw.endswith(")"):
        sign, raw = -1, raw[1:-1].strip()
    if raw[:1] in ("+", "-"):
        sign, raw = (-1 if raw[0] == "-" else 1), raw[1:].strip()
    raw = _UNIT_RE.sub("", raw)
    parts = _FRACTION_RE.match(raw)
    if parts and set(parts["fraction"]) == {"0"}:
        separator = raw[len(parts["whole"])]
        if separator not in parts["whole"]:  # "1.250.000,00", "1250000.00"; not "1.000"
            raw = parts["whole"]
    try:
        return sign * Decimal(parse_dong(raw))
    except ValidationError:
        return None


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y")


def parse_date(text) -> datetime.date | None:
    """dd/mm/yyyy or yyyy-mm-dd (a time after the date is ignored); None if unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    head = re.split(r"[\sT]", text, maxsplit=1)[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    return None


def order_number_tokens(description: str) -> list[str]:
    """Whole tokens of the folded description that look like one of our order numbers.

    Banks strip spaces and punctuation or glue their own prefixes on
    ("MBVCB.123.100001.NGUYEN VAN A chuyen tien", "IBFT DH100001"): tokens are split on
    anything but letters and digits and between letters and digits."""
    folded = bank_text(description)
    tokens = re.findall(r"[a-z]+|\d+", folded)
    found = []
    for token in tokens:
        if ORDER_NUMBER_RE.match(token) and token not in found:
            found.append(token)
    return found


# --- Marking a transfer received -------------------------------------------------------------


def _locked_source(order):
    # Only the order's own source row: a plain FOR UPDATE over the join would also lock the
    # shared payment-type row and make every VietQR order in the shop wait on one another.
    return (
        Source.objects.select_for_update(of=("self",))
        .select_related("source_type")
        .filter(order=order)
        .order_by("pk")
        .first()
    )


def mark_received(order, user, amount, received_on=None, note="") -> BankTransfer:
    """The operator received `amount` by bank transfer for the VietQR order `order`."""
    if isinstance(amount, str):
        parsed = parse_amount(amount)
    else:
        try:
            parsed = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            parsed = None
    if parsed is None or not parsed.is_finite() or parsed != parsed.to_integral_value():
        raise TransferError(_("Enter the amount in whole đồng, e.g. 1.250.000."))
    if parsed <= 0:
        raise TransferError(_("The amount must be more than 0 đồng."))
    received_on = received_on or timezone.localdate()
    with transaction.atomic():
        source = _locked_source(order)
        if source is None or source.source_type.code != VIETQR:
            raise TransferError(
                _("Order %(number)s is not paid by bank transfer.") % {"number": order.number}
            )
        outstanding = source.amount_allocated - source.amount_debited
        if outstanding <= 0:
            raise TransferError(
                _("Order %(number)s is already paid in full.") % {"number": order.number}
            )
        if parsed > outstanding:
            raise TransferError(
                _("%(amount)s is more than the %(outstanding)s still owed on order %(number)s.")
                % {
                    "amount": format_dong(parsed),
                    "outstanding": format_dong(outstanding),
                    "number": order.number,
                }
            )
        transfer = BankTransfer.objects.create(
            order=order,
            amount=parsed,
            description=(note or "").strip()[:DESCRIPTION_MAX],
            received_on=received_on,
            recorded_by=user,
        )
        try:
            record_payment(order, method=VIETQR, amount=parsed, reference=f"transfer-{transfer.pk}")
        except PaymentError as exc:  # pragma: no cover - checked above under the same lock
            raise TransferError(str(exc)) from exc
    return transfer


# --- Statement import ------------------------------------------------------------------------


def _key(header: str) -> str:
    """ "Số tiền ghi có (VND)" → "sotienghico": folded, units and punctuation dropped."""
    text = re.sub(r"\([^)]*\)", "", bank_text(header))
    text = re.sub(r"[^a-z0-9]", "", text)
    return re.sub(r"(vnd|dong)$", "", text)


COLUMNS = {
    "date": (
        "Ngày giao dịch",
        "Ngày GD",
        "Ngày",
        "Ngày hạch toán",
        "Ngày hiệu lực",
        "Thời gian giao dịch",
        "Thời gian",
        "Date",
        "Transaction date",
        "Posting date",
        "Value date",
        "Txn date",
    ),
    "credit": (
        "Số tiền ghi có",
        "Ghi có",
        "Phát sinh có",
        "Số tiền có",
        "Credit",
        "Credit amount",
        "Tiền vào",
    ),
    "debit": (
        "Số tiền ghi nợ",
        "Ghi nợ",
        "Phát sinh nợ",
        "Số tiền nợ",
        "Debit",
        "Debit amount",
        "Tiền ra",
    ),
    "amount": ("Số tiền", "Số tiền giao dịch", "Amount", "Transaction amount"),
    "description": (
        "Nội dung",
        "Nội dung giao dịch",
        "Nội dung chuyển khoản",
        "Mô tả",
        "Diễn giải",
        "Chi tiết giao dịch",
        "Description",
        "Details",
        "Transaction details",
        "Remarks",
        "Narrative",
    ),
    "reference": (
        "Mã giao dịch",
        "Mã GD",
        "Số tham chiếu",
        "Mã tham chiếu",
        "Số bút toán",
        "Số GD",
        "Số chứng từ",
        "Số CT",
        "Reference",
        "Reference number",
        "Ref no",
        "Transaction ID",
        "Transaction number",
        "Transaction no",
    ),
}
ALIASES = {name: [_key(alias) for alias in aliases] for name, aliases in COLUMNS.items()}
DELIMITERS = (",", ";", "\t")


def _columns_of(row: list[str]) -> dict[str, int]:
    """Which cell of a header row holds each column we read (first alias wins)."""
    keys = [_key(cell) for cell in row]
    found = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in keys:
                found[name] = keys.index(alias)
                break
    return found


def _usable(columns: dict[str, int]) -> bool:
    return "description" in columns and ("credit" in columns or "amount" in columns)


@dataclass
class Line:
    """One line of the statement and what became of it."""

    APPLIED = "applied"
    ALREADY = "already"
    MISMATCH = "mismatch"
    IGNORED = "ignored"

    number: int  # line number in the file
    date: datetime.date | None
    date_text: str
    amount: Decimal | None
    amount_text: str
    description: str
    transaction_id: str
    bank_reference: str = ""
    order_number: str = ""
    status: str = ""
    reason: str = ""
    expected: Decimal | None = None


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    delimiter: str = ","

    def _with(self, status):
        return [line for line in self.lines if line.status == status]

    @property
    def applied(self):
        return self._with(Line.APPLIED)

    @property
    def already(self):
        return self._with(Line.ALREADY)

    @property
    def mismatches(self):
        return self._with(Line.MISMATCH)

    @property
    def ignored(self):
        return self._with(Line.IGNORED)

    @property
    def applied_total(self) -> Decimal:
        return sum((line.amount for line in self.applied), Decimal(0))


def _read_text(file) -> str:
    if file is None:
        raise StatementError(_("Choose the bank statement file (CSV)."))
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise StatementError(_("The file is larger than 2 MB; split the statement by period."))
    data = file.read(MAX_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise StatementError(_("The file is larger than 2 MB; split the statement by period."))
    if not data.strip():
        raise StatementError(_("The file is empty."))
    if b"\x00" in data[:4096] or data[:4] in (b"PK\x03\x04", b"%PDF") or data[:2] == b"\xd0\xcf":
        raise StatementError(
            _(
                "This is not a CSV file. In the bank's website or in Excel, save the "
                'statement as "CSV UTF-8".'
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementError(
            _('The file is not UTF-8 text. In Excel, save the statement as "CSV UTF-8".')
        ) from None


def _parse_rows(text: str) -> tuple[list[list[str]], str, int, dict[str, int]]:
    """Rows of the file, its delimiter, the index of the header row and its columns."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES + HEADER_SEARCH_ROWS:
        raise StatementError(
            _("The file has more than %(max)s lines; split the statement by period.")
            % {"max": f"{MAX_LINES:,}".replace(",", ".")}
        )
    head = "\n".join(lines[:HEADER_SEARCH_ROWS])
    best = None
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(head), delimiter=delimiter))
        except csv.Error:
            continue
        for index, row in enumerate(rows):
            columns = _columns_of(row)
            if _usable(columns):
                if (
                    best is None
                    or index < best[1]
                    or (index == best[1] and len(columns) > len(best[2]))
                ):
                    best = (delimiter, index, columns)
                break
    if best is None:
        raise StatementError(
            _(
                "No statement table found: the file needs a header row with a description "
                'column ("Nội dung", "Mô tả", "Diễn giải" or "Description") and an amount '
                'column ("Số tiền ghi có", "Ghi có", "Credit" or "Số tiền").'
            )
        )
    delimiter, header_index, columns = best
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=False))
    except csv.Error:
        raise StatementError(_("The file is not a readable CSV file.")) from None
    if len(rows) - header_index - 1 > MAX_LINES:
        raise StatementError(
            _("The file has more than %(max)s lines; split the statement by period.")
            % {"max": f"{MAX_LINES:,}".replace(",", ".")}
        )
    return rows, delimiter, header_index, columns


def _cell(row, columns, name) -> str:
    index = columns.get(name)
    if index is None or index >= len(row):
        return ""
    return (row[index] or "").strip()


def derived_transaction_id(date_text: str, amount, description: str) -> str:
    """A stable id for a line the bank gave no id: the same line always gets the same one."""
    basis = "\x1f".join([(date_text or "").strip(), str(amount), " ".join(description.split())])
    return "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()  # noqa: S324 (an id)


def _read_lines(rows, header_index, columns) -> list[Line]:
    lines = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if not any((cell or "").strip() for cell in row):
            continue
        date_text = _cell(row, columns, "date")
        description = _cell(row, columns, "description")[:DESCRIPTION_MAX]
        bank_reference = _cell(row, columns, "reference")[:TRANSACTION_ID_MAX]
        credit_text = _cell(row, columns, "credit")
        amount_text = credit_text if "credit" in columns else _cell(row, columns, "amount")
        if "credit" in columns and not credit_text and "amount" in columns:
            amount_text = _cell(row, columns, "amount")
        line = Line(
            number=index + 1,
            date=parse_date(date_text),
            date_text=date_text,
            amount=parse_amount(amount_text),
            amount_text=amount_text,
            description=description,
            transaction_id="",
            bank_reference=bank_reference,
        )
        lines.append(line)
        first = bank_text(next((c for c in row if (c or "").strip()), "")).strip()
        if first.startswith(("tong", "total", "so du", "closing", "opening", "balance")):
            line.status, line.reason = Line.IGNORED, _("Summary line, not a transaction.")
            continue
        debit = parse_amount(_cell(row, columns, "debit")) if "debit" in columns else None
        if line.amount is None or line.amount == 0:
            if (debit is not None and debit != 0) or (
                not amount_text and "debit" in columns and _cell(row, columns, "debit")
            ):
                line.status, line.reason = Line.IGNORED, _("Debit (money out): ignored.")
            elif not amount_text:
                line.status, line.reason = Line.IGNORED, _("No amount credited: ignored.")
            else:
                line.status = Line.MISMATCH
                line.reason = _("Unreadable amount: %(text)s") % {"text": amount_text}
            continue
        if line.amount < 0:
            line.status, line.reason = Line.IGNORED, _("Debit (money out): ignored.")
            continue
        if date_text and line.date is None:
            line.status = Line.MISMATCH
            line.reason = _("Unreadable date: %(text)s") % {"text": date_text}
            continue
        line.transaction_id = bank_reference or derived_transaction_id(
            date_text, line.amount, description
        )
    return lines


def read_statement(file) -> Report:
    """The statement's lines as read, nothing applied. Raises StatementError when the file
    cannot be read or has no transaction line (what the upload form says at once)."""
    text = _read_text(file)
    rows, delimiter, header_index, columns = _parse_rows(text)
    report = Report(lines=_read_lines(rows, header_index, columns), delimiter=delimiter)
    if not report.lines:
        raise StatementError(_("The statement has no transaction lines."))
    return report


def import_statement(file, user, *, progress=None) -> Report:
    """Apply the credit lines of a bank statement that pay a VietQR order exactly; list
    the others with the reason. Raises StatementError when the file cannot be read.
    `progress(done, total)`, when given, is told after each line matched against orders."""
    report = read_statement(file)
    candidates = [line for line in report.lines if not line.status]
    if not candidates:
        return report

    # Duplicates inside the file: the first one counts, the others are listed.
    seen = set()
    for line in candidates:
        if line.transaction_id in seen:
            line.status = Line.MISMATCH
            line.reason = _("Duplicate line: the same transaction appears earlier in the file.")
        seen.add(line.transaction_id)
    candidates = [line for line in candidates if not line.status]

    recorded = set(
        BankTransfer.objects.filter(
            transaction_id__in=[line.transaction_id for line in candidates]
        ).values_list("transaction_id", flat=True)
    )
    for line in candidates:
        if line.transaction_id in recorded:
            line.status, line.reason = Line.ALREADY, _("Already recorded by an earlier import.")
    candidates = [line for line in candidates if not line.status]

    tokens = {line.number: order_number_tokens(line.description) for line in candidates}
    wanted = {token for found in tokens.values() for token in found}
    orders = {
        order.number: order
        for order in Order.objects.filter(number__in=wanted).prefetch_related(
            "sources__source_type"
        )
    }
    for done, line in enumerate(candidates, start=1):
        if progress is not None:
            progress(done - 1, len(candidates))
        found = tokens[line.number]
        known = [token for token in found if token in orders]
        if not found:
            line.status = Line.MISMATCH
            line.reason = _("No order number found in the description.")
        elif not known:
            line.status, line.order_number = Line.MISMATCH, found[0]
            line.reason = _("Unknown order %(number)s.") % {"number": found[0]}
        elif len(known) > 1:
            line.status = Line.MISMATCH
            line.reason = _("Several order numbers in the description: %(numbers)s.") % {
                "numbers": ", ".join(known)
            }
        else:
            line.order_number = known[0]
            _apply(line, orders[known[0]], user)
    if progress is not None:
        progress(len(candidates), len(candidates))
    return report


# --- The import as a background job ----------------------------------------------------------

PROGRESS_EVERY = 25  # lines between two writes of the job's progress


def report_data(report: Report) -> dict:
    """A report as JSON for the job's row (report_from_data reads it back)."""
    return {
        "delimiter": report.delimiter,
        "lines": [
            {
                **{k: v for k, v in vars(line).items() if k not in ("date", "amount", "expected")},
                "date": line.date.isoformat() if line.date else None,
                "amount": str(line.amount) if line.amount is not None else None,
                "expected": str(line.expected) if line.expected is not None else None,
            }
            for line in report.lines
        ],
    }


def report_from_data(data: dict) -> Report:
    lines = []
    for item in data.get("lines") or []:
        values = dict(item)
        values["date"] = datetime.date.fromisoformat(item["date"]) if item.get("date") else None
        for key in ("amount", "expected"):
            values[key] = Decimal(item[key]) if item.get(key) is not None else None
        lines.append(Line(**values))
    return Report(lines=lines, delimiter=data.get("delimiter", ","))


def start_statement_import(*, file, user):
    """Keep the uploaded statement (private storage) and queue its import, after checking
    that it can be read (StatementError, for the form). Returns the job."""
    from django.core.files.base import ContentFile

    from marketplace.models import StatementImport

    data = file.read(MAX_BYTES + 1)
    report = read_statement(io.BytesIO(data if isinstance(data, bytes) else data.encode()))
    name = (getattr(file, "name", "") or "statement.csv")[-255:]
    with transaction.atomic():
        job = StatementImport(
            created_by=user,
            file_name=name,
            lines_total=sum(1 for line in report.lines if not line.status),
        )
        job.file.save("statement.csv", ContentFile(data), save=False)
        job.save()
        transaction.on_commit(lambda: queue_statement_import(job.pk))
    return job


def queue_statement_import(job_id: int) -> None:
    from marketplace.tasks import run_statement_import as task

    task.delay(job_id)


def retry_statement_import(*, job) -> None:
    """Queue a failed import again (its worker died, or it failed): lines it applied stay
    applied and are listed as already recorded."""
    from marketplace.models import StatementImport

    failed = StatementImport.objects.filter(pk=job.pk, status=StatementImport.Status.FAILED)
    updated = failed.update(
        status=StatementImport.Status.PENDING,
        error="",
        attempts=0,
        worker="",
        started_at=None,
        finished_at=None,
        heartbeat_at=timezone.now(),  # when it was queued again (jobs._queued_at)
    )
    if updated:
        transaction.on_commit(lambda: queue_statement_import(job.pk))


def run_statement_import(job_id: int) -> str:
    """The job's work (marketplace.tasks.run_statement_import): claim it, apply the lines
    with the progress written every PROGRESS_EVERY lines, keep the report. Returns the
    final status."""
    from marketplace.core import jobs
    from marketplace.models import StatementImport

    job = jobs.claim(StatementImport, job_id)
    if job is None:
        return "skipped"
    rows = StatementImport.objects.filter(pk=job.pk)

    def progress(done, total):
        if done == total or done % PROGRESS_EVERY == 0:
            rows.update(lines_done=done, lines_total=total, heartbeat_at=timezone.now())

    try:
        with job.file.open("rb") as handle:
            report = import_statement(handle, job.created_by, progress=progress)
    except StatementError as exc:
        rows.update(status=jobs.FAILED, error=str(exc), finished_at=timezone.now())
        return jobs.FAILED
    except Exception:
        rows.update(
            status=jobs.FAILED,
            error=_("The statement could not be applied because of an error on the server."),
            finished_at=timezone.now(),
        )
        raise
    rows.update(
        status=jobs.DONE,
        report=report_data(report),
        lines_done=F("lines_total"),
        finished_at=timezone.now(),
    )
    return jobs.DONE


def _apply(line: Line, order, user) -> None:
    """Apply one line in its own transaction (or savepoint), after locking the order's
    payment source; set the line's status and reason."""
    state = payment_state(order)
    if state.method != VIETQR:
        line.status = Line.MISMATCH
        line.reason = _("Order %(number)s is not paid by bank transfer.") % {"number": order.number}
        return
    try:
        with transaction.atomic():
            source = _locked_source(order)
            if BankTransfer.objects.filter(transaction_id=line.transaction_id).exists():
                line.status, line.reason = Line.ALREADY, _("Already recorded by an earlier import.")
                return
            outstanding = source.amount_allocated - source.amount_debited
            line.expected = outstanding
            if outstanding <= 0:
                line.status = Line.MISMATCH
                line.reason = _("Order %(number)s is already paid.") % {"number": order.number}
                return
            if line.amount != outstanding:
                line.status = Line.MISMATCH
                line.reason = _(
                    "Amount differs: order %(number)s expects %(expected)s, "
                    "the bank received %(received)s."
                ) % {
                    "number": order.number,
                    "expected": format_dong(outstanding),
                    "received": format_dong(line.amount),
                }
                return
            BankTransfer.objects.create(
                order=order,
                amount=line.amount,
                transaction_id=line.transaction_id,
                description=line.description,
                received_on=line.date,
                recorded_by=user,
            )
            record_payment(order, method=VIETQR, amount=line.amount, reference=line.transaction_id)
    except IntegrityError:
        # Another import recorded this transaction id at the same moment.
        line.status, line.reason = Line.ALREADY, _("Already recorded by an earlier import.")
        return
    except PaymentError as exc:
        line.status, line.reason = Line.MISMATCH, str(exc)
        return
    line.status, line.reason = Line.APPLIED, ""
