"""Oscar's review form, with a posted score that is not one of its choices dropped before
the page shows it again (Oscar's star widget rounds the raw value: "abc" was a 500)."""

from oscar.apps.catalogue.reviews.forms import ProductReviewForm as OscarProductReviewForm

from marketplace.core.numbers import parse_int


class ProductReviewForm(OscarProductReviewForm):
    def __init__(self, product, *args, user=None, **kwargs):
        super().__init__(product, *args, user=user, **kwargs)
        if self.is_bound and "score" in self.data:
            choices = {value for value, _label in self.fields["score"].choices if value != ""}
            if parse_int(self.data.get("score")) not in choices:
                self.data = self.data.copy()
                self.data["score"] = ""
