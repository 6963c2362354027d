"""Validating and writing rows: each row gets one outcome (created, updated, unchanged,
skipped, error); new members are inserted in batches inside a savepoint, a batch that
fails is replayed row by row."""

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from marketplace.core.numbers import is_digits
from marketplace.core.text import fold

from .. import cccd, crypto, selectors, services
from ..models import Member, MemberEvent, MemberImport, Organisation
from .common import BATCH, EXAMPLE_CCCD, OUTCOMES
from .validation import (
    _GENDERS,
    _MAX_LENGTHS,
    Places,
    Row,
    _digits_cell,
    _error_text,
    _label,
    _parse_area,
    _parse_date,
    _text,
)

logger = logging.getLogger(__name__)


S = Member.Status
EDITABLE_STATUSES = (S.DRAFT, S.RETURNED)


class Importer:
    """Runs one import: validates rows, writes them, keeps the counts and the report."""

    def __init__(self, record: MemberImport, *, user, role: str, membership):
        self.record = record
        self.user = user
        self.role = role
        self.membership = membership
        self.org = membership.organisation if membership else None
        self.mapping = {key: int(index) for key, index in record.mapping.items()}
        self.area_unit = (record.options or {}).get("area_unit", "m2")
        branches = list(selectors.branches_for(user, membership))
        all_names = Organisation.objects.filter(
            kind=Organisation.Kind.ASSOCIATION_BRANCH
        ).values_list("name", flat=True)
        self.places = Places(branches, all_names)
        self.scope = selectors.members_in_scope(user, membership)
        self.seen: dict[str, int] = {}
        self.report: list[dict] = []
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.note = _("Imported from “%(file)s” (import #%(number)s).") % {
            "file": record.original_name,
            "number": record.pk,
        }

    # -- reading -------------------------------------------------------------------------------

    def _cell(self, row: Row, key):
        index = self.mapping.get(key)
        if index is None or index >= len(row.cells):
            return None
        value = row.cells[index]
        return None if value == "" else value

    def read_identity(self, row: Row) -> None:
        row.name = _text(self._cell(row, "full_name"))[:120]
        raw = _digits_cell(self._cell(row, "cccd"))
        number = cccd.normalise(raw)
        if is_digits(number) and len(number) == 11 and not number.startswith("0"):
            number = "0" + number  # Excel dropped the leading zero
        row.cccd = number
        if not number:
            row.fail("cccd", _("Enter the citizen ID number."))
        elif is_digits(number) and len(number) == 12:
            row.digest = crypto.keyed_hash(number)

    def read_fields(self, row: Row) -> None:
        """Cells → service data; blank cells are left out (they never erase a value)."""
        data, member = row.data, row.member
        for key in ("full_name", "street", "main_products", "cooperative", "bank_holder"):
            value = _text(self._cell(row, key))
            if value:
                if len(value) > _MAX_LENGTHS[key]:
                    row.fail(key, _("At most %(max)s characters.") % {"max": _MAX_LENGTHS[key]})
                data[key] = value
        if (value := self._cell(row, "date_of_birth")) is not None:
            try:
                data["date_of_birth"] = _parse_date(value)
            except (ValueError, TypeError, OverflowError):
                row.fail("date_of_birth", _("Write the date as dd/mm/yyyy, e.g. 12/03/1978."))
        if (value := self._cell(row, "gender")) is not None:
            data["gender"] = _GENDERS.get(fold(_text(value)), _text(value))
        elif member is None and is_digits(row.cccd) and len(row.cccd) == 12:
            data["gender"] = "male" if int(row.cccd[3]) % 2 == 0 else "female"
        if (value := self._cell(row, "phone")) is not None:
            data["phone"] = _digits_cell(value)
        if (value := self._cell(row, "email")) is not None:
            email = _text(value).lower()
            try:
                validate_email(email)
            except ValidationError:
                row.fail("email", _("Enter a valid e-mail address."))
            else:
                if len(email) > _MAX_LENGTHS["email"]:
                    row.fail("email", _("At most %(max)s characters.") % {"max": 254})
                data["email"] = email
        province = None
        if (value := self._cell(row, "province_code")) is not None:
            try:
                province = data["province_code"] = self.places.province(value)
            except LookupError as exc:
                row.fail("province_code", exc)
        elif member is not None:
            province = member.province_code
        elif self.org is not None:
            province = data["province_code"] = self.org.province_code
        if (value := self._cell(row, "commune_code")) is not None and province:
            try:
                data["commune_code"] = self.places.commune(value, province)
            except LookupError as exc:
                row.fail("commune_code", exc)
        if (value := self._cell(row, "farm_area_m2")) is not None:
            try:
                data["farm_area_m2"] = _parse_area(value, self.area_unit)
            except (ValueError, OverflowError):
                row.fail(
                    "farm_area_m2",
                    _("Write the farm area as a number, e.g. 1500 (m²) or 1,5 ha."),
                )
        if (value := self._cell(row, "bank_bin")) is not None:
            try:
                data["bank_bin"] = self.places.bank(value)
            except LookupError as exc:
                row.fail("bank_bin", exc)
        if (value := self._cell(row, "bank_account")) is not None:
            data["bank_account"] = _digits_cell(value).replace(".", "").replace("-", "")
        if (value := self._cell(row, "branch")) is not None:
            try:
                data["branch"] = self.places.branch(value)
            except LookupError as exc:
                row.fail("branch", exc)
        elif member is None:
            self._default_branch(row)

    def _default_branch(self, row: Row) -> None:
        if self.org is not None and self.org.kind == Organisation.Kind.ASSOCIATION_BRANCH:
            row.data["branch"] = self.places.in_scope.get(self.org.pk) or self.org
            return
        commune = row.data.get("commune_code")
        if commune is None:
            return  # clean_member_data says the commune is missing
        found = self.places.by_commune.get(commune, [])
        if len(found) == 1:
            row.data["branch"] = found[0]
        elif found:
            row.fail("branch", _("Several branches cover this commune: give the branch."))
        else:
            row.fail("branch", _("None of your branches covers this commune: give the branch."))

    # -- deciding --------------------------------------------------------------------------------

    def decide(self, row: Row, existing: dict, in_scope: set) -> None:
        """Set the row's outcome, or leave it to be created or updated (clean is set).
        The row's identity is read already (read_identity)."""
        if row.cccd == EXAMPLE_CCCD:
            return self._done(row, "skipped", _("The template's example row: not imported."))
        if row.digest:
            first = self.seen.get(row.digest)
            if first is not None:
                return self._done(
                    row,
                    "error",
                    _("The same citizen ID is already in row %(row)s.") % {"row": first},
                )
            self.seen[row.digest] = row.number
            row.member = existing.get(row.digest)
        member = row.member
        if member is not None and member.pk not in in_scope:
            return self._done(
                row,
                "skipped",
                _("A member with this citizen ID is registered outside your scope: not changed."),
            )
        self.read_fields(row)
        if member is None and row.cccd:
            dob = row.data.get("date_of_birth")
            try:
                cccd.validate(row.cccd, date_of_birth=dob, gender=row.data.get("gender"))
            except ValidationError as exc:
                row.fail("cccd", exc.messages[0])
        base = {} if member is None else {
            f: getattr(member, f) for f in services.MEMBER_FIELDS if f != "cccd"
        }  # fmt: skip
        try:
            clean = services.clean_member_data({**base, **row.data})
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                if key in row.errors:  # a cell that could not be read says so already
                    continue
                if key == "branch" and "commune_code" in row.errors and "branch" not in row.data:
                    continue  # the branch follows from the commune: one message is enough
                row.errors[key] = messages
        if row.errors:
            return self._done(row, "error", _error_text(row.errors), member)
        if member is None:
            clean["cccd"] = row.cccd
            row.clean = clean
            return None
        if not _changes(member, clean):
            return self._done(row, "unchanged", "", member)
        if member.status not in EDITABLE_STATUSES:
            return self._done(row, "skipped", _not_editable(member), member)
        row.clean = clean
        return None

    def _done(self, row: Row, outcome: str, message: str = "", member=None):
        """Record the row's outcome. `member` only when it is in the importer's scope:
        nothing about a member outside it reaches the report."""
        row.outcome, row.message = outcome, str(message)
        row.member_id = member.pk if member is not None else None
        self.counts[outcome] += 1
        self.report.append(
            {
                "row": row.number,
                "outcome": outcome,
                "name": row.name,
                "cccd": cccd.mask(row.cccd) if len(row.cccd) >= 3 else "",
                "member": row.member_id,
                "message": row.message,
            }
        )

    # -- writing ---------------------------------------------------------------------------------

    def _new_member(self, clean: dict) -> Member:
        member = Member(created_by=self.user, status=S.DRAFT)
        services._apply(member, clean)  # noqa: SLF001 — the same normalisation as register
        return member

    def _new_event(self, member: Member) -> MemberEvent:
        return MemberEvent(
            member=member,
            actor=self.user,
            actor_role=self.role,
            action="registered",
            to_status=S.DRAFT,
            reason=self.note,
        )

    def create_batch(self, rows: list[Row]) -> None:
        if not rows:
            return
        members = [self._new_member(row.clean) for row in rows]
        try:
            with transaction.atomic():
                Member.objects.bulk_create(members, batch_size=BATCH)
                if any(m.pk is None for m in members):
                    raise DatabaseError("no primary keys from bulk insert")
                MemberEvent.objects.bulk_create(
                    [self._new_event(m) for m in members], batch_size=BATCH
                )
        except (DatabaseError, ValidationError):
            for row in rows:  # replay one by one: a bad row fails alone
                self.create_one(row)
            return
        for row, member in zip(rows, members, strict=True):
            self._done(row, "created", "", member)

    def create_one(self, row: Row) -> None:
        try:
            with transaction.atomic():
                member = self._new_member(row.clean)
                member.save()
                self._new_event(member).save()
        except IntegrityError:
            # Someone registered this CCCD meanwhile (another import, a clerk): decide again.
            member = Member.objects.select_related("branch").filter(cccd_hash=row.digest).first()
            if member is None:
                return self._done(row, "error", _("The row could not be saved."))
            self.seen.pop(row.digest, None)
            retry = Row(number=row.number, cells=row.cells)
            self.read_identity(retry)
            in_scope = set(self.scope.filter(pk=member.pk).values_list("pk", flat=True))
            self.decide(retry, {row.digest: member}, in_scope)
            if not retry.outcome:
                self.update_one(retry)
            return None
        except Exception:  # noqa: BLE001 — reported on the row; the others go on
            logger.exception("import %s: row %s failed", self.record.pk, row.number)
            return self._done(row, "error", _("The row could not be saved."))
        return self._done(row, "created", "", member)

    def update_one(self, row: Row) -> None:
        try:
            with transaction.atomic():
                member = Member.objects.select_for_update().get(pk=row.member.pk)
                if member.status not in EDITABLE_STATUSES:
                    return self._done(row, "skipped", _not_editable(member), member)
                changed = services.update_member(
                    actor=self.user, role=self.role, member=member, data=row.data
                )
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            return self._done(row, "error", _error_text(messages), row.member)
        except Exception:  # noqa: BLE001
            logger.exception("import %s: row %s failed", self.record.pk, row.number)
            return self._done(row, "error", _("The row could not be saved."), row.member)
        if not changed:
            return self._done(row, "unchanged", "", row.member)
        fields = ", ".join(_label(name) for name in changed)
        return self._done(row, "updated", _("Changed: %(fields)s.") % {"fields": fields}, member)

    # -- the whole file ------------------------------------------------------------------------

    def run(self, rows: list[tuple[int, list]], progress=None) -> None:
        done = 0
        for start in range(0, len(rows), BATCH):
            chunk = [Row(number=n, cells=c) for n, c in rows[start : start + BATCH]]
            digests = set()
            for row in chunk:
                self.read_identity(row)
                if row.digest:
                    digests.add(row.digest)
            existing = {
                m.cccd_hash: m
                for m in Member.objects.select_related("branch").filter(cccd_hash__in=digests)
            }
            in_scope = set()
            if existing:
                in_scope = set(
                    self.scope.filter(pk__in=[m.pk for m in existing.values()]).values_list(
                        "pk", flat=True
                    )
                )
            to_create, to_update = [], []
            for row in chunk:
                self.decide(row, existing, in_scope)
                if row.outcome:
                    continue
                (to_update if row.member is not None else to_create).append(row)
            self.create_batch(to_create)
            for row in to_update:
                self.update_one(row)
            done += len(chunk)
            if progress is not None:
                progress(done)
        self.report.sort(key=lambda entry: entry["row"])


def _changes(member: Member, clean: dict) -> list[str]:
    return [
        name
        for name in services.MEMBER_FIELDS
        if name != "cccd" and name in clean and getattr(member, name) != clean[name]
    ]


def _not_editable(member: Member) -> str:
    return _(
        "The application is “%(status)s”: an import changes only drafts and applications "
        "returned for changes. Edit the member's record instead."
    ) % {"status": member.get_status_display()}
