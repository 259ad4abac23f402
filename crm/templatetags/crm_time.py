from django import template

from crm.mail.rendering import format_moment

register = template.Library()


@register.simple_tag
def moment(value, home_tz, person_tz=None) -> str:
    """``{% moment gathering.starts_at gathering.time_zone contact.time_zone %}``"""
    if value is None:
        return ""
    return format_moment(value, home_tz, person_tz)
