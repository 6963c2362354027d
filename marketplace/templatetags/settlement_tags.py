"""Template helpers of the settlement pages."""

from django import template

register = template.Library()


@register.filter
def vietnamese_name(user) -> str:
    """A person's name as Vietnamese writes it, family name first ("Trần Văn Nam"); the
    e-mail address when no name was given."""
    if user is None:
        return ""
    name = " ".join(part for part in (user.last_name, user.first_name) if part).strip()
    return name or user.email or user.get_username()


@register.filter
def bank_short_name(bin_) -> str:
    from marketplace.core.banks import short_name

    return short_name(str(bin_ or "")) or str(bin_ or "")
