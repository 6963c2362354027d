"""Member (hội viên) pages: staff under /can-bo/hoi-vien/, the farmer under /can-bo/toi/.

Thin views over farmers.selectors (scope: 404 outside it, for every member, document,
thumbnail, history and access-log URL) and farmers.services (rules, history, logs).
Anyone signed in who is not staff gets 404 on staff pages; anonymous visitors are sent
to sign in.
"""

from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from marketplace.core.numbers import parse_int
from marketplace.core.ratelimit import throttled
from marketplace.core.redirects import safe_next

from . import access, phones, selectors, services
from . import member_forms as forms
from .models import Member, MemberDocument

PAGE_SIZE = 25


def _member(request, pk):
    membership, role = access.staff_role(request)
    members = selectors.members_in_scope(request.user, membership)
    return get_object_or_404(members.select_related("user"), pk=pk), membership, role


def _province_of(membership):
    return membership.organisation.province_code if membership else None


def _post_only(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


@login_required
def member_list(request):
    membership, role = access.staff_role(request)
    branches = selectors.branches_for(request.user, membership)
    form = forms.SearchForm(
        request.GET or None, branches=branches, province_code=_province_of(membership)
    )
    members = selectors.members_in_scope(request.user, membership)
    if form.is_valid():
        members = selectors.search_members(members, **form.cleaned_data)
    size = min(max(parse_int(request.GET.get("size"), PAGE_SIZE), 5), 100)
    page = Paginator(members, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "farmers/members/list.html",
        {
            "membership": membership,
            "form": form,
            "page_obj": page,
            "members": page.object_list,
            "query": query.urlencode(),
            "may_register": role in services.REGISTER_ROLES,
        },
    )


@login_required
def member_create(request):
    membership, role = access.staff_role(request)
    if role not in services.REGISTER_ROLES:
        raise PermissionDenied
    branches = selectors.branches_for(request.user, membership)
    form = forms.MemberForm(
        request.POST or None,
        branches=branches,
        province_code=_province_of(membership),
        communes=selectors.registration_communes(request.user, membership),
    )
    if request.method == "POST" and form.is_valid():
        try:
            member = services.register_member(
                actor=request.user, role=role, data=form.service_data()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The member is registered as a draft."))
            return redirect("farmers:member-detail", pk=member.pk)
    return render(
        request,
        "farmers/members/form.html",
        {"form": form, "title": _("Register a member"), "back_url": reverse("farmers:members")},
    )


@login_required
def member_edit(request, pk):
    member, membership, role = _member(request, pk)
    branches = selectors.branches_for(request.user, membership)
    form = forms.MemberForm(
        request.POST or None,
        initial=forms.MemberForm.initial_for(member),
        branches=branches,
        province_code=_province_of(membership),
        communes=selectors.registration_communes(request.user, membership),
    )
    form.fields["cccd"].required = False
    form.fields["cccd"].help_text = _("Leave empty to keep the number on file (%(masked)s).") % {
        "masked": member.cccd_masked
    }
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member(
                actor=request.user, role=role, member=member, data=form.service_data()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The member's record is saved."))
            return redirect("farmers:member-detail", pk=member.pk)
    return render(
        request,
        "farmers/members/form.html",
        {
            "form": form,
            "member": member,
            "title": _("Edit %(name)s") % {"name": member.full_name},
            "back_url": reverse("farmers:member-detail", args=[member.pk]),
        },
    )


def _detail_context(request, member, role, **extra):
    context = {
        "member": member,
        "role": role,
        "actions": services.allowed_actions(member, role),
        "may_see_personal_data": services.may_see_personal_data(
            role=role, member=member, user=request.user
        ),
        "document_form": forms.DocumentForm(),
        "transition_form": forms.TransitionForm(),
        "purposes": _purposes(member),
        **selectors.member_page(member),
    }
    context.update(extra)
    return context


def _purposes(member):
    from .models import Consent

    active = {c.purpose: c for c in member.consents.all() if c.active}
    return [
        {"value": value, "label": label, "consent": active.get(value)}
        for value, label in Consent.Purpose.choices
    ]


@login_required
def member_detail(request, pk):
    member, _membership, role = _member(request, pk)
    context = _detail_context(request, member, role)
    services.log_member_page(
        actor=request.user, role=role, member=member, documents=context["documents"]
    )
    return render(request, "farmers/members/detail.html", context)


def _signed_in_user(request) -> str:
    return f"user:{request.user.pk}"


def _phone_typed(request) -> str:
    """The phone an activation code is typed for, so that the limit follows the account
    whatever address the guesses come from."""
    raw = request.POST.get("phone", "")
    try:
        return "phone:" + phones.to_e164(raw)
    except ValidationError:
        return ""


@login_required
@throttled("cccd-reveal", key=_signed_in_user)
def member_cccd(request, pk):
    """The explicit "show the full CCCD" action (POST): checked, logged, not cached."""
    member, _membership, role = _member(request, pk)
    if (response := _post_only(request)) is not None:
        return response
    try:
        number = services.reveal_cccd(actor=request.user, role=role, member=member)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("farmers:member-detail", pk=member.pk)
    response = render(
        request,
        "farmers/members/detail.html",
        _detail_context(request, member, role, full_cccd=number),
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def member_document_upload(request, pk):
    member, _membership, role = _member(request, pk)
    if (response := _post_only(request)) is not None:
        return response
    return _upload(request, member, role, redirect_to=reverse("farmers:member-detail", args=[pk]))


def _upload(request, member, role, *, redirect_to):
    form = forms.DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_document(
                actor=request.user,
                role=role,
                member=member,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["image"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The document is added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(redirect_to)


def _serve(request, member, role, document_pk, *, thumbnail):
    document = get_object_or_404(MemberDocument, member=member, pk=document_pk)
    services.log_document_access(
        actor=request.user, role=role, member=member, document=document, thumbnail=thumbnail
    )
    stored = document.thumbnail if thumbnail else document.file
    content_type = "image/png" if stored.name.endswith(".png") else "image/jpeg"
    response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


@login_required
def member_document(request, pk, document_pk):
    member, _membership, role = _member(request, pk)
    return _serve(request, member, role, document_pk, thumbnail=False)


@login_required
def member_document_thumbnail(request, pk, document_pk):
    member, _membership, role = _member(request, pk)
    return _serve(request, member, role, document_pk, thumbnail=True)


@login_required
def member_transition(request, pk):
    member, _membership, role = _member(request, pk)
    if (response := _post_only(request)) is not None:
        return response
    form = forms.TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown action."))
        return redirect("farmers:member-detail", pk=member.pk)
    action = form.cleaned_data["action"]
    try:
        services.transition(
            actor=request.user,
            role=role,
            member=member,
            action=action,
            reason=form.cleaned_data["reason"],
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            _("The application is %(action)s.") % {"action": services.action_label(action)},
        )
    return redirect("farmers:member-detail", pk=member.pk)


@login_required
@throttled("activation-send", key=_signed_in_user)
def member_invite(request, pk):
    """Create the farmer's account (if needed) and send a fresh activation code."""
    member, _membership, role = _member(request, pk)
    if (response := _post_only(request)) is not None:
        return response
    try:
        services.invite_member(actor=request.user, role=role, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("An activation code is sent to the farmer's phone."))
    return redirect("farmers:member-detail", pk=member.pk)


@login_required
def member_consent(request, pk):
    member, _membership, role = _member(request, pk)
    if (response := _post_only(request)) is not None:
        return response
    form = forms.ConsentForm(request.POST)
    if form.is_valid():
        purpose = form.cleaned_data["purpose"]
        if form.cleaned_data["withdraw"]:
            services.withdraw_consent(actor=request.user, role=role, member=member, purpose=purpose)
            messages.success(request, _("The withdrawal of consent is recorded."))
        else:
            services.record_consent(actor=request.user, role=role, member=member, purpose=purpose)
            messages.success(request, _("The consent is recorded."))
    return redirect("farmers:member-detail", pk=member.pk)


@login_required
def member_history(request, pk):
    member, _membership, _role = _member(request, pk)
    return render(
        request,
        "farmers/members/history.html",
        {"member": member, "events": member.events.select_related("actor")},
    )


@login_required
def member_access_log(request, pk):
    member, _membership, _role = _member(request, pk)
    return render(
        request,
        "farmers/members/access_log.html",
        {"member": member, "accesses": selectors.access_log(member)},
    )


# --- The farmer's own pages ------------------------------------------------------------------


def _own_member(request):
    member = Member.objects.select_related("branch").filter(user=request.user).first()
    if member is None:
        raise Http404
    return member


@login_required
def my_record(request):
    member = _own_member(request)
    editable = member.status in services.FARMER_EDITABLE_STATUSES
    fields = ("phone", "email", "street", "commune_code", "farm_area", "farm_area_unit")
    fields += ("main_products", "cooperative")
    form = None
    if editable:
        form = forms.MemberForm(
            request.POST or None,
            initial=forms.MemberForm.initial_for(member),
            branches=selectors.branches_for(request.user).none(),
            province_code=member.province_code,
            fields=fields,
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.update_member(
                    actor=request.user,
                    role=services.FARMER,
                    member=member,
                    data=form.service_data(),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Your record is saved."))
                return redirect("farmers:my-record")
    return render(
        request,
        "farmers/members/mine.html",
        {
            "member": member,
            "form": form,
            "editable": editable,
            "documents": list(member.documents.all()),
            "document_form": forms.DocumentForm(),
        },
    )


@login_required
def my_document_upload(request):
    member = _own_member(request)
    if (response := _post_only(request)) is not None:
        return response
    return _upload(request, member, services.FARMER, redirect_to=reverse("farmers:my-record"))


@login_required
def my_document(request, document_pk):
    return _serve(request, _own_member(request), services.FARMER, document_pk, thumbnail=False)


@login_required
def my_document_thumbnail(request, document_pk):
    return _serve(request, _own_member(request), services.FARMER, document_pk, thumbnail=True)


@throttled("activation", key=_phone_typed)
def activate(request):
    """The farmer sets a password with the one-time code, then is signed in."""
    form = forms.ActivationForm(request.POST or None, initial={"phone": request.GET.get("so", "")})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.activate_account(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password1"],
            )
        except services.ActivationError as exc:
            form.add_error("code", str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your account is active. Welcome!"))
            return redirect("farmers:my-record")
    return render(request, "farmers/members/activate.html", {"form": form})


def farmer_login(request):
    """The old phone sign-in page. Everyone now signs in on one page, with an e-mail or a
    phone number: a visit goes there (keeping a safe `next`); a form still posted here is
    still answered."""
    if request.method != "POST":
        target = safe_next(request, "")
        url = reverse("customer:login")
        return redirect(f"{url}?{urlencode({'next': target})}" if target else url)
    form = forms.FarmerLoginForm(request.POST)
    if form.is_valid():
        try:
            username = phones.to_e164(form.cleaned_data["phone"])
        except ValidationError as exc:
            form.add_error("phone", exc)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                form.add_error(None, _("The phone number or the password is wrong."))
            else:
                login(request, user)
                return redirect(safe_next(request, reverse("farmers:my-record")))
    return render(
        request,
        "farmers/members/login.html",
        {"form": form, "next": safe_next(request, "")},
    )
