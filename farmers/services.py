"""Writes that matter for farmer onboarding. Plain functions, keyword-only arguments.

Who may do what with a member (hội viên) application — the roles come from the staff
membership (farmers.selectors.role_for); scope (which members) from
farmers.selectors.members_in_scope, and views answer 404 outside it:

==================  ========  =======  ===============  =======  ========  ========
action              operator  branch   prov. assoc.     post     farmer    from
==================  ========  =======  ===============  =======  ========  ========
register, edit      yes       yes      yes              yes      own¹      any²
upload document     yes       yes      yes              yes      own¹      any²
record consent      yes       yes      yes              yes      —         any²
submit              yes       yes      yes              yes      —         draft, returned
verify              yes       yes      yes              —        —         submitted
return (reason)     yes       yes      yes              —        —         submitted, verified
reject (reason)     yes       —        yes              —        —         submitted, verified
approve             yes       —        yes              —        —         verified
full CCCD, ID photo yes       yes³     —                —        own       any
==================  ========  =======  ===============  =======  ========  ========

¹ a farmer changes only phone, e-mail, address and farm facts, and only while the
  application is a draft or returned for changes. ² not once rejected.
³ staff of the member's own branch, on an explicit "show" action; every full CCCD or ID
  photo shown is written to the access log (PersonalDataAccess).

Verification needs both sides of the CCCD photographed; approval needs an active consent
to selling on the marketplace. Approval opens the shop exactly once: the member row is
locked, the shop is linked one-to-one, and a second approval is refused. The farmer's
account is created inactive and gets a one-time activation code (farmers.senders).

`register_member` and `update_member` validate everything themselves (forms only collect
input), so an import can call them row by row inside a transaction.
"""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.core import geo
from marketplace.core.links import absolute_url
from marketplace.core.names import name_fields
from marketplace.core.numbers import is_digits
from marketplace.core.text import fold

from . import banks, cccd, crypto, phones
from .models import (
    ActivationCode,
    Consent,
    Member,
    MemberDocument,
    MemberEvent,
    Organisation,
    PersonalDataAccess,
    StaffMembership,
)
from .scope import scope_of

OPERATOR, BRANCH, PROVINCE, POST_OFFICE, FARMER = (
    "operator",
    "branch",
    "province",
    "post_office",
    "farmer",
)
STAFF_ROLES = {OPERATOR, BRANCH, PROVINCE, POST_OFFICE}
# Who registers members (a post office sees members only once they consented to sharing
# with it, so it does not register them).
REGISTER_ROLES = {OPERATOR, BRANCH, PROVINCE}
S = Member.Status
# action: (from statuses, to status, roles allowed, reason required)
TRANSITIONS = {
    "submit": ({S.DRAFT, S.RETURNED}, S.SUBMITTED, STAFF_ROLES, False),
    "verify": ({S.SUBMITTED}, S.VERIFIED, {OPERATOR, BRANCH, PROVINCE}, False),
    "return": ({S.SUBMITTED, S.VERIFIED}, S.RETURNED, {OPERATOR, BRANCH, PROVINCE}, True),
    "reject": ({S.SUBMITTED, S.VERIFIED}, S.REJECTED, {OPERATOR, PROVINCE}, True),
    "approve": ({S.VERIFIED}, S.APPROVED, {OPERATOR, PROVINCE}, False),
}
FARMER_EDITABLE = (
    "phone",
    "email",
    "street",
    "commune_code",
    "farm_area_m2",
    "main_products",
    "cooperative",
)
FARMER_EDITABLE_STATUSES = {S.DRAFT, S.RETURNED}
MEMBER_FIELDS = (
    "full_name", "date_of_birth", "gender", "cccd", "phone", "email", "province_code",
    "commune_code", "street", "branch", "farm_area_m2", "main_products", "cooperative",
    "bank_bin", "bank_account", "bank_holder",
)  # fmt: skip
CONSENT_NOTICE_VERSION = "2026-01"
ACTIVATION_TTL = datetime.timedelta(hours=48)
ACTIVATION_MAX_ATTEMPTS = 5


# --- Organisations and staff -----------------------------------------------------------------


@transaction.atomic
def upsert_organisation(
    *, name: str, kind: str, province_code: int, commune_code=None, parent=None
) -> Organisation:
    org = Organisation.objects.filter(name=name).first() or Organisation(name=name)
    org.kind = kind
    org.province_code = province_code
    org.commune_code = commune_code
    org.parent = parent
    org.full_clean()
    org.save()
    return org


@transaction.atomic
def assign_staff(*, user, organisation: Organisation, title: str = "") -> StaffMembership:
    membership, _ = StaffMembership.objects.update_or_create(
        user=user, defaults={"organisation": organisation, "title": title}
    )
    return membership


# --- Members ---------------------------------------------------------------------------------


def _require_role(role, allowed):
    if role not in allowed:
        raise PermissionDenied(_("Your role may not do this."))


def _require_registration_place(actor, clean: dict) -> None:
    """A member is registered (or moved) only where the actor's scope allows
    (farmers.scope: a commune branch its own commune)."""
    where = {"province_code": clean.get("province_code"), "commune_code": clean.get("commune_code")}
    if not scope_of(actor).may_register_in(**where):
        raise ValidationError(
            {"commune_code": [_("Your organisation does not register members in this commune.")]}
        )


def clean_member_data(data: dict, *, instance: Member | None = None) -> dict:
    """Validate and normalise member fields; raise ValidationError({field: [messages]})."""
    errors: dict[str, list[str]] = {}
    out = dict(data)

    def fail(field, message):
        errors.setdefault(field, []).append(message)

    name = " ".join(str(data.get("full_name") or "").split())
    if len(name) < 2:
        fail("full_name", _("Enter the member's full name."))
    out["full_name"] = name
    dob = data.get("date_of_birth")
    if not isinstance(dob, datetime.date):
        fail("date_of_birth", _("Enter the date of birth."))
        dob = None
    else:
        age = (timezone.localdate() - dob).days // 365
        if not 15 <= age <= 110:
            fail("date_of_birth", _("A member is between 15 and 110 years old."))
    gender = data.get("gender")
    if gender not in Member.Gender.values:
        fail("gender", _("Choose male or female."))
    if "cccd" in data:
        try:
            number = cccd.validate(str(data.get("cccd") or ""), date_of_birth=dob, gender=gender)
        except ValidationError as exc:
            fail("cccd", exc.messages[0])
        else:
            out["cccd"] = number
            taken = Member.objects.filter(cccd_hash=crypto.keyed_hash(number))
            if instance is not None:
                taken = taken.exclude(pk=instance.pk)
            if taken.exists():
                fail("cccd", _("A member with this citizen ID is already registered."))
    try:
        out["phone"] = phones.to_e164(str(data.get("phone") or ""))
    except ValidationError as exc:
        fail("phone", exc.messages[0])
    out["email"] = (data.get("email") or "").strip().lower()
    province, commune = data.get("province_code"), data.get("commune_code")
    if not province or not geo.is_valid_province(int(province)):
        fail("province_code", _("Choose a province."))
    elif not commune or not geo.commune_in_province(int(commune), int(province)):
        fail("commune_code", _("Choose a commune or ward of this province."))
    branch = data.get("branch")
    if not isinstance(branch, Organisation) or branch.kind != Organisation.Kind.ASSOCIATION_BRANCH:
        fail("branch", _("Choose the member's association branch."))
    elif province and branch.province_code != int(province):
        fail("branch", _("This branch is in another province."))
    out["street"] = " ".join(str(data.get("street") or "").split())
    area = data.get("farm_area_m2")
    if area not in (None, ""):
        if int(area) < 0 or int(area) > 100_000_000:
            fail("farm_area_m2", _("Enter a farm area between 0 and 10,000 ha."))
        out["farm_area_m2"] = int(area)
    else:
        out["farm_area_m2"] = None
    out["main_products"] = str(data.get("main_products") or "").strip()
    out["cooperative"] = str(data.get("cooperative") or "").strip()
    bin_ = str(data.get("bank_bin") or "")
    account = str(data.get("bank_account") or "").replace(" ", "")
    holder = fold(str(data.get("bank_holder") or "")).upper()
    if bin_ and bin_ not in banks.BY_BIN:
        fail("bank_bin", _("Choose a bank from the list."))
    if account and not (is_digits(account) and 6 <= len(account) <= 19):
        fail("bank_account", _("An account number has 6 to 19 digits."))
    if any((bin_, account, holder)) and not all((bin_, account, holder)):
        fail("bank_account", _("Give the bank, the account number and the holder's name."))
    out.update(bank_bin=bin_, bank_account=account, bank_holder=holder)
    if errors:
        raise ValidationError(errors)
    return out


def _apply(member: Member, data: dict) -> list[str]:
    changed = []
    for field in MEMBER_FIELDS:
        if field not in data:
            continue
        if field == "cccd":
            number = data["cccd"]
            digest = crypto.keyed_hash(number)
            if digest != member.cccd_hash:
                member.cccd_encrypted = crypto.encrypt(number)
                member.cccd_hash, member.cccd_last3 = digest, number[-3:]
                changed.append("cccd")
            continue
        if getattr(member, field, None) != data[field]:
            setattr(member, field, data[field])
            changed.append(field)
    member.name_folded = fold(member.full_name)[:120]
    return changed


def _event(member, *, actor, role, action, from_status="", to_status="", reason=""):
    return MemberEvent.objects.create(
        member=member,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_role=role or "",
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )


@transaction.atomic
def register_member(*, actor, role: str, data: dict) -> Member:
    """Create a draft member from `data` (see MEMBER_FIELDS); ValidationError if invalid."""
    _require_role(role, REGISTER_ROLES)
    clean = clean_member_data(data)
    _require_registration_place(actor, clean)
    member = Member(created_by=actor, status=S.DRAFT)
    _apply(member, clean)
    member.save()
    _event(member, actor=actor, role=role, action="registered", to_status=S.DRAFT)
    return member


@transaction.atomic
def update_member(*, actor, role: str, member: Member, data: dict) -> list[str]:
    """Change a member's fields; a farmer only FARMER_EDITABLE ones while draft/returned.
    Returns the names of the fields that changed (recorded in the history, not values)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if role == FARMER:
        if member.status not in FARMER_EDITABLE_STATUSES:
            raise ValidationError(_("Your application cannot be changed at this stage."))
        data = {key: value for key, value in data.items() if key in FARMER_EDITABLE}
    else:
        _require_role(role, STAFF_ROLES)
    if member.status == S.REJECTED:
        raise ValidationError(_("A rejected application cannot be changed."))
    current = {field: getattr(member, field) for field in MEMBER_FIELDS if field != "cccd"}
    clean = clean_member_data({**current, **data}, instance=member)
    if "cccd" not in data:
        clean.pop("cccd", None)
    if role != FARMER and (clean.get("commune_code"), clean.get("province_code")) != (
        member.commune_code,
        member.province_code,
    ):
        _require_registration_place(actor, clean)
    changed = _apply(member, clean)
    if changed:
        member.save()
        _event(member, actor=actor, role=role, action="edited", reason=", ".join(changed))
    return changed


def allowed_actions(member: Member, role: str | None) -> list[str]:
    return [
        action
        for action, (sources, _target, roles, _reason) in TRANSITIONS.items()
        if member.status in sources and role in roles
    ]


@transaction.atomic
def transition(*, actor, role: str, member: Member, action: str, reason: str = "") -> Member:
    """Move an application along (see TRANSITIONS), under a row lock, with history."""
    if action not in TRANSITIONS:
        raise ValidationError(_("Unknown action."))
    sources, target, roles, needs_reason = TRANSITIONS[action]
    _require_role(role, roles)
    member = Member.objects.select_for_update().get(pk=member.pk)
    reason = (reason or "").strip()
    if member.status not in sources:
        raise ValidationError(
            _("This application is %(status)s: it cannot be %(action)s now.")
            % {"status": member.get_status_display().lower(), "action": action_label(action)}
        )
    if needs_reason and not reason:
        raise ValidationError(_("Write the reason the farmer will read."))
    if action == "verify":
        kinds = set(member.documents.values_list("kind", flat=True))
        if not set(MemberDocument.ID_KINDS) <= kinds:
            raise ValidationError(
                _("Upload photos of both sides of the citizen ID card before verifying.")
            )
    if action == "approve":
        if not has_consent(member, Consent.Purpose.MARKETPLACE):
            raise ValidationError(
                _(
                    "The member has not consented to selling on the marketplace: record "
                    "their consent before approving."
                )
            )
        _open_shop(member)
    previous = member.status
    member.status = target
    member.status_reason = reason if target in (S.RETURNED, S.REJECTED) else ""
    member.save()
    _event(
        member,
        actor=actor,
        role=role,
        action=action,
        from_status=previous,
        to_status=target,
        reason=reason,
    )
    if action == "approve" and not member.user.is_active:
        issue_activation_code(member=member)
    return member


def action_label(action: str) -> str:
    return {
        "submit": _("submitted"),
        "verify": _("verified"),
        "return": _("returned"),
        "reject": _("rejected"),
        "approve": _("approved"),
    }[action]


def _shop_name(member: Member) -> str:
    from oscar.core.loading import get_model

    Partner = get_model("partner", "Partner")
    name = f"{member.full_name} ({member.commune_name})"[:120]
    if Partner.objects.filter(name=name).exists():  # a namesake in the same commune
        name = f"{name[:110]} #{member.pk}"
    return name


def _ensure_account(member: Member) -> None:
    """The farmer's account (inactive until activated): username = phone in E.164."""
    if member.user_id is not None:
        return
    User = get_user_model()
    username = member.phone
    if User.objects.filter(username=username).exists():
        username = f"{member.phone}-{member.pk}"
    email = member.email
    if email and User.objects.filter(email__iexact=email).exists():
        email = ""  # e-mail sign-in must stay unambiguous; the phone still works
    user = User(username=username, email=email, **name_fields(member.full_name))
    user.is_active = False
    user.set_unusable_password()
    user.save()
    member.user = user


@transaction.atomic
def invite_member(*, actor, role: str, member: Member) -> Member:
    """Give the farmer their account before approval (to follow the application, correct
    what staff allow and add a missing document) and send an activation code."""
    _require_role(role, STAFF_ROLES)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status == S.REJECTED:
        raise ValidationError(_("A rejected application cannot be changed."))
    if member.user_id is not None and member.user.is_active:
        raise ValidationError(_("The farmer's account is already active."))
    _ensure_account(member)
    member.save(update_fields=["user"])
    _event(member, actor=actor, role=role, action="invited")
    issue_activation_code(member=member)
    return member


def _open_shop(member: Member) -> None:
    """Create the farmer's (inactive) account and shop; called with the member locked."""
    from marketplace.models import ProducerProfile
    from marketplace.shops.services import open_producer_shop

    if member.partner_id is not None:
        return
    _ensure_account(member)
    member.partner = open_producer_shop(
        name=_shop_name(member),
        kind=ProducerProfile.Kind.HOUSEHOLD,
        province_code=member.province_code,
        commune_code=member.commune_code,
        address_line=member.street,
        owner=member.user,
    )


# --- Consent -----------------------------------------------------------------------------------


def has_consent(member: Member, purpose: str) -> bool:
    return member.consents.filter(purpose=purpose, withdrawn_at__isnull=True).exists()


@transaction.atomic
def record_consent(
    *, actor, role: str, member: Member, purpose: str, notice_version: str = CONSENT_NOTICE_VERSION
) -> Consent:
    _require_role(role, STAFF_ROLES)
    if purpose not in Consent.Purpose.values:
        raise ValidationError(_("Unknown purpose."))
    member = Member.objects.select_for_update().get(pk=member.pk)
    existing = member.consents.filter(purpose=purpose, withdrawn_at__isnull=True).first()
    if existing is not None:
        return existing
    consent = Consent.objects.create(
        member=member, purpose=purpose, notice_version=notice_version, collected_by=actor
    )
    _event(
        member,
        actor=actor,
        role=role,
        action="consent_given",
        reason=Consent.Purpose(purpose).label,
    )
    return consent


@transaction.atomic
def withdraw_consent(*, actor, role: str, member: Member, purpose: str) -> None:
    if role != FARMER:
        _require_role(role, STAFF_ROLES)
    member = Member.objects.select_for_update().get(pk=member.pk)
    updated = member.consents.filter(purpose=purpose, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawn_by=actor
    )
    if updated:
        _event(
            member,
            actor=actor,
            role=role,
            action="consent_withdrawn",
            reason=Consent.Purpose(purpose).label,
        )


# --- Documents and personal data ----------------------------------------------------------------


THUMBNAIL_SIDE = 240


@transaction.atomic
def add_document(
    *, actor, role: str, member: Member, kind: str, upload, note: str = ""
) -> MemberDocument:
    """Store a photo or scan (cleaned by marketplace.core.uploads.clean_image) privately."""
    from marketplace.core.uploads import clean_image

    if role == FARMER:
        if member.status not in FARMER_EDITABLE_STATUSES:
            raise ValidationError(_("Your application cannot be changed at this stage."))
    else:
        _require_role(role, STAFF_ROLES)
    if member.status == S.REJECTED:
        raise ValidationError(_("A rejected application cannot be changed."))
    if kind not in MemberDocument.Kind.values:
        raise ValidationError(_("Choose the kind of document."))
    image = clean_image(upload)
    thumbnail = clean_image(image, max_side=THUMBNAIL_SIDE)
    document = MemberDocument(member=member, kind=kind, note=note.strip()[:200], uploaded_by=actor)
    document.file.save(image.name, image, save=False)
    document.thumbnail.save("thumb-" + thumbnail.name, thumbnail, save=False)
    document.save()
    _event(
        member, actor=actor, role=role, action="document_added", reason=document.get_kind_display()
    )
    return document


def may_see_personal_data(*, role: str | None, member: Member, user) -> bool:
    """Full CCCD and ID photos: the operator, staff of the member's own branch, the member."""
    if role == OPERATOR:
        return True
    if role == FARMER:
        return member.user_id == user.pk
    if role == BRANCH:  # the branch's scope (farmers.scope), not the province's
        return scope_of(user).allows(member)
    return False


def reveal_cccd(*, actor, role: str, member: Member) -> str:
    """The full CCCD number, for those who may see it; the view is written to the log."""
    if not may_see_personal_data(role=role, member=member, user=actor):
        raise PermissionDenied(_("Your role may not see the full citizen ID number."))
    PersonalDataAccess.objects.create(member=member, user=actor, what=PersonalDataAccess.What.CCCD)
    return crypto.decrypt(member.cccd_encrypted)


def log_document_access(
    *, actor, role: str, member: Member, document: MemberDocument, thumbnail: bool
) -> None:
    """Check and log access to an ID photo (other documents: anyone in scope, no log).
    A thumbnail is shown on the member page, whose opening is the one logged access
    (`log_member_page`); the full photo is logged each time it is opened."""
    if not document.is_id_photo:
        return
    if not may_see_personal_data(role=role, member=member, user=actor):
        raise PermissionDenied(_("Your role may not see ID card photos."))
    if thumbnail:
        return
    PersonalDataAccess.objects.create(
        member=member, user=actor, what=PersonalDataAccess.What.ID_PHOTO, document=document
    )


def log_member_page(*, actor, role: str, member: Member, documents) -> None:
    """Opening a member page that shows ID photo thumbnails: one access-log entry, however
    many photos the page shows."""
    if not any(document.is_id_photo for document in documents):
        return
    if not may_see_personal_data(role=role, member=member, user=actor):
        return  # the page shows "restricted" instead of the photos
    PersonalDataAccess.objects.create(
        member=member, user=actor, what=PersonalDataAccess.What.ID_THUMBNAIL
    )


# --- Activation -------------------------------------------------------------------------------


def _code_hash(member: Member, code: str) -> str:
    return crypto.keyed_hash(f"{member.pk}:{code}", purpose="nongsan.farmers.activation.v1")


@transaction.atomic
def issue_activation_code(*, member: Member) -> None:
    """A fresh 6-digit code (older ones die), sent by settings.ACTIVATION_SENDER on commit."""
    from .senders import get_sender

    if member.user_id is None:
        raise ValidationError(_("This member has no account yet."))
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    member.activation_codes.filter(used_at__isnull=True).update(used_at=now)
    ActivationCode.objects.create(
        member=member, code_hash=_code_hash(member, code), expires_at=now + ACTIVATION_TTL
    )
    path = absolute_url(
        reverse("farmers:activate") + f"?so={phones.national(member.phone).replace(' ', '')}"
    )
    if member.partner_id is not None:
        text = _(
            "nongsan: your shop is open. Activation code %(code)s (valid %(hours)s hours). "
            "Set your password at %(link)s"
        )
    else:
        text = _(
            "nongsan: your association opened your account. Activation code %(code)s "
            "(valid %(hours)s hours). Set your password at %(link)s"
        )
    message = text % {
        "code": code,
        "hours": int(ACTIVATION_TTL.total_seconds() // 3600),
        "link": path,
    }
    phone, email = member.phone, member.email
    transaction.on_commit(lambda: get_sender().send(phone=phone, email=email, message=message))


class ActivationError(Exception):
    pass


def activate_account(*, phone: str, code: str, password: str):
    """Set the farmer's password with a valid code; returns the user. ActivationError with a
    message otherwise (wrong, expired, used or too many attempts). Each wrong try counts."""
    try:
        e164 = phones.to_e164(phone)
    except ValidationError as exc:
        raise ActivationError(exc.messages[0]) from exc
    code = "".join((code or "").split())
    wrong = _("The code is wrong or has expired. Ask your association for a new one.")
    with transaction.atomic():
        candidates = list(
            ActivationCode.objects.select_for_update()
            .select_related("member__user")
            .filter(member__phone=e164, used_at__isnull=True, member__user__isnull=False)
        )
        if not candidates:
            raise ActivationError(wrong)
        now = timezone.now()
        for candidate in candidates:
            if candidate.expires_at <= now or candidate.attempts >= ACTIVATION_MAX_ATTEMPTS:
                continue
            if secrets.compare_digest(candidate.code_hash, _code_hash(candidate.member, code)):
                user = candidate.member.user
                user.set_password(password)
                user.is_active = True
                user.save()
                candidate.used_at = now
                candidate.save(update_fields=["used_at"])
                return user
        for candidate in candidates:
            candidate.attempts += 1
            candidate.save(update_fields=["attempts"])
    if all(c.attempts >= ACTIVATION_MAX_ATTEMPTS for c in candidates):
        raise ActivationError(_("Too many wrong codes. Ask your association for a new one."))
    raise ActivationError(wrong)
