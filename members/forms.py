from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextareaWidget,
    UnfoldBooleanSwitchWidget,
)

from members.models import Contact, Organization
from members.selectors import contact_with_email
from members.services import normalize_email


class ContactAdminForm(forms.ModelForm):
    opted_out = forms.BooleanField(
        label=_("Opted out of non-essential mail"),
        required=False,
        widget=UnfoldBooleanSwitchWidget,
        help_text=_("Invitations and other essential mail are still sent."),
    )

    class Meta:
        model = Contact
        fields = (
            "salutation",
            "given_name",
            "family_name",
            "email",
            "phone",
            "preferred_language",
            "time_zone",
            "notes",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opted_out"].initial = bool(self.instance.mail_opt_out_at)

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data.get("email"))
        existing = contact_with_email(email)
        if existing and existing.pk != self.instance.pk:
            raise forms.ValidationError(
                _("%(email)s already belongs to %(name)s (contact #%(id)s)."),
                params={"email": email, "name": existing.full_name, "id": existing.pk},
                code="duplicate",
            )
        return email

    def validate_unique(self):
        # E-mail uniqueness is checked in clean_email with a message naming the owner.
        self.instance.email = self.cleaned_data.get("email", self.instance.email)


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(
        label=_("New status"), choices=Organization.Status.choices, widget=UnfoldAdminSelectWidget
    )
    effective_date = forms.DateField(
        label=_("Effective date"), initial=timezone.localdate, widget=UnfoldAdminSingleDateWidget
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text=_("Required when suspending or withdrawing."),
    )


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(
        label=_("Keep this contact"),
        queryset=Contact.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = contacts


class EraseForm(forms.Form):
    """Confirmation of an erasure: the word ERASE or the contact's id, and why."""

    confirm = forms.CharField(
        label=_("Type ERASE or the contact's id to confirm"),
        max_length=20,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
        help_text=_(
            "Why, e.g. “request by e-mail of 3 December”. Do not write the person's name: "
            "this goes to the access log."
        ),
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != "ERASE" and value != str(self.contact.pk):
            raise forms.ValidationError(
                _("Type ERASE (in capitals) or %(id)s to confirm.") % {"id": self.contact.pk}
            )
        return value
