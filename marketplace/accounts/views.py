from django.shortcuts import redirect
from oscar.apps.customer.views import AccountAuthView

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
