"""Forms of the back-office pages that live in ``crm`` (the activity view)."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from api.models import ApiClient
from crm.activity import ActivityFilter

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class DateInput(UnfoldAdminTextInputWidget):
    input_type = "date"


class ActivityFilterForm(forms.Form):
    """The filters of the activity view, all optional; ``object`` needs ``type``."""

    user = forms.ModelChoiceField(
        label=_("User"),
        queryset=get_user_model().objects.order_by("username"),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    api_client = forms.ModelChoiceField(
        label=_("API client"),
        queryset=ApiClient.objects.order_by("name"),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    invitation = forms.IntegerField(
        label=_("Invitation (RSVP link)"),
        min_value=1,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    type = forms.ChoiceField(label=_("Object type"), required=False, widget=UnfoldAdminSelectWidget)
    object = forms.IntegerField(
        label=_("Object id"), min_value=1, required=False, widget=UnfoldAdminIntegerFieldWidget
    )
    date_from = forms.DateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=DateInput
    )
    date_to = forms.DateField(
        label=pgettext_lazy("date range", "To"), required=False, widget=DateInput
    )
    per_page = forms.IntegerField(
        label=_("Per page"),
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
    )

    def __init__(self, *args, type_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("All types")), *type_choices]
        self.fields["user"].empty_label = _("Anyone")
        self.fields["api_client"].empty_label = _("Any API client")

    def clean(self):
        data = super().clean()
        if data.get("object") and not data.get("type"):
            self.add_error("object", _("Choose the object type too."))
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def activity_filter(self) -> ActivityFilter:
        data = self.cleaned_data
        return ActivityFilter(
            user_id=data["user"].pk if data.get("user") else None,
            api_client_id=data["api_client"].pk if data.get("api_client") else None,
            invitation_id=data.get("invitation"),
            model_label=data.get("type") or "",
            object_id=data.get("object"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    def page_size(self) -> int:
        return self.cleaned_data.get("per_page") or PAGE_SIZE
