from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from oscar.apps.customer.views import AccountAuthView
from oscar.apps.customer.views import OrderLineView as OscarOrderLineView
from oscar.core.loading import get_model

from marketplace.core.homes import home_url
from marketplace.core.redirects import is_local_path, safe_next

from .forms import EmailOrPhoneAuthenticationForm


class SignInView(AccountAuthView):
    """Oscar's sign-in and registration page: the sign-in takes an e-mail or a phone
    number; afterwards a safe `next` wins, else the user's home."""

    login_form_class = EmailOrPhoneAuthenticationForm

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect(safe_next(request, home_url(request.user)))
        return super(AccountAuthView, self).get(request, *args, **kwargs)

    def get_login_success_url(self, form):
        target = form.cleaned_data.get("redirect_url") or ""
        if is_local_path(target):
            return target
        return safe_next(self.request, home_url(self.request.user))


@method_decorator(login_required, name="dispatch")
class OrderLineView(OscarOrderLineView):
    """Oscar's "buy this line again" action (POST, from the order page). Oscar has no page
    for one line: opening its address shows the order instead of a missing template, and a
    line that is not the order's is a 404 instead of a 500."""

    def get(self, request, *args, **kwargs):
        self.get_object()
        return redirect("customer:order", order_number=self.kwargs["order_number"])

    def get_object(self, queryset=None):
        order = get_object_or_404(
            get_model("order", "Order"),
            user=self.request.user,
            number=self.kwargs["order_number"],
        )
        try:
            return order.lines.get(id=self.kwargs["line_id"])
        except order.lines.model.DoesNotExist:
            raise Http404 from None
