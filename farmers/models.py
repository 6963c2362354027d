from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.places import Place

from .storage import get_private_storage


class Organisation(Place):
    """A body whose staff bring farmers online: an association branch (commune level),
    a provincial association, or a post office."""

    class Kind(models.TextChoices):
        ASSOCIATION_BRANCH = "branch", _("Farmers' Association branch")
        PROVINCIAL_ASSOCIATION = "province", _("Provincial Farmers' Association")
        POST_OFFICE = "post_office", _("Post office")

    kind = models.CharField(_("Type"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("Name"), max_length=200, unique=True)
    commune_code = models.PositiveIntegerField(_("Commune / ward"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("Parent organisation"),
    )

    class Meta:
        verbose_name = _("Organisation")
        verbose_name_plural = _("Organisations")
        ordering = ["province_code", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.kind == self.Kind.ASSOCIATION_BRANCH and self.commune_code is None:
            raise ValidationError({"commune_code": _("A branch belongs to a commune.")})


class StaffMembership(models.Model):
    """Which organisation a staff user works for: this is the user's scope."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_membership",
        verbose_name=_("User"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("Organisation"),
    )
    title = models.CharField(_("Job title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("Staff membership")
        verbose_name_plural = _("Staff memberships")

    def __str__(self):
        return f"{self.user} @ {self.organisation}"


# --- Members (hội viên) and their onboarding -------------------------------------------------


def _document_path(instance, filename):
    return f"members/{instance.member_id}/{filename}"


class Member(Place):
    """A member of the Farmers' Association, on the way to having a shop.

    The CCCD is never stored in clear: `cccd_encrypted` (Fernet), `cccd_hash` (keyed HMAC,
    unique: for exact search and against duplicates) and its last three digits for the
    masked form. See farmers.crypto and farmers.services.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VERIFIED = "verified", _("Verified")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for changes")
        REJECTED = "rejected", _("Rejected")

    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    full_name = models.CharField(_("Full name"), max_length=120)
    name_folded = models.CharField(max_length=120, db_index=True, editable=False)
    date_of_birth = models.DateField(_("Date of birth"))
    gender = models.CharField(_("Gender"), max_length=10, choices=Gender.choices)
    cccd_encrypted = models.TextField(editable=False)
    cccd_hash = models.CharField(max_length=64, unique=True, editable=False)
    cccd_last3 = models.CharField(max_length=3, editable=False)
    phone = models.CharField(_("Phone"), max_length=16, db_index=True)
    email = models.EmailField(_("E-mail"), blank=True)
    commune_code = models.PositiveIntegerField(_("Commune / ward"), db_index=True)
    street = models.CharField(_("Street, hamlet, village"), max_length=200, blank=True)
    branch = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"kind": Organisation.Kind.ASSOCIATION_BRANCH},
        verbose_name=_("Association branch"),
    )
    farm_area_m2 = models.PositiveIntegerField(_("Farm area (m²)"), null=True, blank=True)
    main_products = models.CharField(_("Main crops or livestock"), max_length=300, blank=True)
    cooperative = models.CharField(_("Cooperative (if a member)"), max_length=200, blank=True)
    bank_bin = models.CharField(_("Bank"), max_length=6, blank=True)
    bank_account = models.CharField(_("Account number"), max_length=19, blank=True)
    bank_holder = models.CharField(_("Account holder"), max_length=120, blank=True)
    status = models.CharField(
        _("Status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    status_reason = models.TextField(_("Reason"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="member",
        verbose_name=_("Account"),
    )
    partner = models.OneToOneField(
        "partner.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="member",
        verbose_name=_("Shop"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Member")
        verbose_name_plural = _("Members")
        ordering = ["name_folded", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "draft",
                        "submitted",
                        "verified",
                        "approved",
                        "returned",
                        "rejected",
                    ]
                ),
                name="farmers_member_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(partner__isnull=False),
                name="farmers_member_approved_has_shop",
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def cccd_masked(self) -> str:
        return "*" * 9 + self.cccd_last3

    @property
    def phone_national(self) -> str:
        from .phones import national

        return national(self.phone)

    @property
    def bank_name(self) -> str:
        from .banks import short_name

        return short_name(self.bank_bin)

    @property
    def farm_area_display(self) -> str:
        if not self.farm_area_m2:
            return ""
        if self.farm_area_m2 >= 10_000:
            return f"{self.farm_area_m2 / 10_000:.2f}".rstrip("0").rstrip(".") + " ha"
        return f"{self.farm_area_m2} m²"


class AppendOnly(models.Model):
    """Rows that record what happened: inserted once, never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not getattr(self, "_allow_update", False):
            raise ValidationError(_("This record cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("This record cannot be deleted."))


class MemberEvent(AppendOnly):
    """The application's history: each transition (and registration, edits, documents),
    who did it, in which role, when and why. Shown on the member page; append-only."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("Action"), max_length=30)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_role = models.CharField(_("Role"), max_length=20)
    reason = models.TextField(_("Reason"), blank=True)
    at = models.DateTimeField(_("Time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("Member history entry")
        verbose_name_plural = _("Member history")
        ordering = ["at", "pk"]

    ACTIONS = {
        "registered": _("Registered"),
        "edited": _("Record changed"),
        "document_added": _("Document added"),
        "consent_given": _("Consent recorded"),
        "consent_withdrawn": _("Consent withdrawn"),
        "invited": _("Activation code sent"),
        "submit": _("Submitted for verification"),
        "verify": _("Verified"),
        "return": _("Returned for changes"),
        "reject": _("Rejected"),
        "approve": _("Approved, shop opened"),
    }
    ROLES = {
        "operator": _("Operator"),
        "branch": _("Association branch"),
        "province": _("Provincial association"),
        "post_office": _("Post office"),
        "farmer": _("Farmer"),
    }

    def __str__(self):
        return f"{self.member_id}: {self.action} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def action_display(self) -> str:
        return self.ACTIONS.get(self.action, self.action)

    @property
    def role_display(self) -> str:
        return self.ROLES.get(self.actor_role, self.actor_role)

    @property
    def to_status_display(self) -> str:
        return Member.Status(self.to_status).label if self.to_status else ""

    @property
    def reason_display(self) -> str:
        """Edits list the fields changed (never their values), shown by their labels."""
        if self.action != "edited":
            return self.reason
        labels = []
        for name in self.reason.split(", "):
            if name == "cccd":
                labels.append(str(_("Citizen ID")))
                continue
            try:
                labels.append(str(Member._meta.get_field(name).verbose_name))
            except Exception:  # noqa: BLE001 — an old field name: show it as stored
                labels.append(name)
        return ", ".join(labels)


class MemberDocument(models.Model):
    class Kind(models.TextChoices):
        CCCD_FRONT = "cccd_front", _("Citizen ID card, front")
        CCCD_BACK = "cccd_back", _("Citizen ID card, back")
        CERTIFICATE = "certificate", _("Certificate scan")
        FARM_PHOTO = "farm_photo", _("Farm photo")
        OTHER = "other", _("Other document")

    ID_KINDS = (Kind.CCCD_FRONT, Kind.CCCD_BACK)

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("Document"), max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to=_document_path, storage=get_private_storage)
    thumbnail = models.FileField(upload_to=_document_path, storage=get_private_storage)
    note = models.CharField(_("Note"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Member document")
        verbose_name_plural = _("Member documents")
        ordering = ["kind", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.member_id})"

    @property
    def is_id_photo(self) -> bool:
        return self.kind in self.ID_KINDS


class Consent(models.Model):
    """Consent to process personal data for one purpose (Law 91/2025, Art. 9): the notice
    version shown, when, who collected it; a withdrawal closes it (a new consent is a
    new row, so the record of past consent stays)."""

    class Purpose(models.TextChoices):
        MARKETPLACE = "marketplace", _("Selling on the marketplace")
        POST_OFFICE = "post_office", _("Sharing with the post office for delivery and COD")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(_("Purpose"), max_length=20, choices=Purpose.choices)
    notice_version = models.CharField(_("Notice version"), max_length=20)
    given_at = models.DateTimeField(_("Given at"), auto_now_add=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("Withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Consent")
        verbose_name_plural = _("Consents")
        ordering = ["purpose", "-given_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="farmers_one_active_consent_per_purpose",
            )
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} ({self.member_id})"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class PersonalDataAccess(AppendOnly):
    """Access log: every view of a full CCCD number or of an ID photo."""

    class What(models.TextChoices):
        CCCD = "cccd", _("Full citizen ID number")
        ID_PHOTO = "id_photo", _("ID card photo")
        ID_THUMBNAIL = "id_thumbnail", _("ID card photo (thumbnail)")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(_("What"), max_length=20, choices=What.choices)
    document = models.ForeignKey(
        MemberDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("Time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("Personal data access")
        verbose_name_plural = _("Personal data access log")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.user_id} saw {self.what} of {self.member_id}"


class ActivationCode(models.Model):
    """A one-time code that lets a farmer set the password of the account opened on
    approval. Stored as a keyed hash; expires; single use; a few attempts only."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="activation_codes")
    code_hash = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self):
        return f"activation code of {self.member_id}"


# --- Member imports (Excel/CSV) --------------------------------------------------------------


def _import_path(instance, filename):
    import os
    import secrets

    extension = os.path.splitext(filename)[1].lower()
    if extension not in (".xlsx", ".csv"):
        extension = ""
    return f"imports/{secrets.token_urlsafe(18)}{extension}"


class SpreadsheetImport(models.Model):
    """An uploaded spreadsheet (Excel or CSV), its column mapping, progress and report: what
    a member import and a product import share (farmers.imports runs both). The file is
    private (farmers.storage) and served only through permission-checked views."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("Imported by"),
    )
    actor_role = models.CharField(_("Role"), max_length=20)
    file = models.FileField(upload_to=_import_path, storage=get_private_storage)
    original_name = models.CharField(_("File name"), max_length=255)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    file_size = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=10, default="vi")
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    header_row = models.PositiveIntegerField(default=1)
    headers = models.JSONField(default=list, blank=True)
    samples = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("Rows"), default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("Created"), default=0)
    updated_count = models.PositiveIntegerField(_("Updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("Unchanged"), default=0)
    skipped_count = models.PositiveIntegerField(_("Skipped"), default=0)
    error_count = models.PositiveIntegerField(_("Errors"), default=0)
    report = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("Uploaded at"), auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker took it up, and which one last ("host:pid";
    # marketplace.core.jobs).
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(_("Finished at"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.original_name} ({self.pk})"

    @property
    def awaiting_mapping(self) -> bool:
        return self.status == self.Status.PENDING and self.queued_at is None

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class MemberImport(SpreadsheetImport):
    """An uploaded member list, its column mapping, progress and report.

    Seen only within the importer's scope: its organisation (a provincial association also
    sees its branches'), the operator all. Served only through the permission-checked views
    in farmers.import_views. See farmers.imports.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="member_imports",
        verbose_name=_("Organisation"),
    )

    class Meta:
        verbose_name = _("Member import")
        verbose_name_plural = _("Member imports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "running", "done", "failed"]),
                name="farmers_memberimport_status_valid",
            ),
        ]


class ProductImport(SpreadsheetImport):
    """An uploaded product list of one producer (created or updated by their SKU), its
    column mapping, progress and report. Seen by whoever may list products for the
    producer (marketplace.catalogue.listings.may_list_for). See farmers.imports.products.
    """

    producer = models.ForeignKey(
        "marketplace.ProducerProfile",
        on_delete=models.CASCADE,
        related_name="product_imports",
        verbose_name=_("Producer"),
    )

    class Meta:
        verbose_name = _("Product import")
        verbose_name_plural = _("Product imports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "running", "done", "failed"]),
                name="farmers_productimport_status_valid",
            ),
        ]
