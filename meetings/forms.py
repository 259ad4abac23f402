from django import forms
from django.utils.translation import gettext_lazy as _

from meetings.models import Gathering, Invitation


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Will you attend?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you will attend.")},
    )
    dietary = forms.CharField(label=_("Dietary needs"), max_length=200, required=False)
    accessibility = forms.CharField(label=_("Accessibility needs"), max_length=200, required=False)
    other_needs = forms.CharField(
        label=_("Anything else we should know"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label=_("Note to the organisers"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, gathering: Gathering, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if gathering.offers_in_person:
            choices.append(("in_person", _("Yes, I will attend in person")))
        if gathering.offers_online:
            choices.append(("online", _("Yes, I will attend online")))
        choices.append(("decline", _("No, I cannot attend")))
        self.fields["answer"].choices = choices


class PersonForm(forms.Form):
    """A colleague: to come instead (substitute) or in addition (within the seats)."""

    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"))
    mode = forms.ChoiceField(
        label=_("Attends"),
        choices=Invitation.Mode.choices,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, prefix_name: str, **kwargs):
        super().__init__(*args, prefix=prefix_name, **kwargs)


class LinkForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail address"))
