"""Oscar's checkout gateway ("I am a returning customer, and my password is"), giving the
request to its sign-in form so that wrong passwords there count toward the lock too
(marketplace.accounts.lockout)."""

from oscar.apps.checkout.views import IndexView as OscarIndexView


class IndexView(OscarIndexView):
    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs
