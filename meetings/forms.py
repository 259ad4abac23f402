from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from meetings.models import Gathering, Invitation
from members.privacy.models import ConsentPurpose, ConsentText

MAX_GUEST_SLOTS = 5


def _interpolated(message: str, **values) -> str:
    return gettext(message) % values


# Translated when the label is shown (in the page's language), not when the form is built.
interpolated_lazy = lazy(_interpolated, str)


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
        self.guest_slots = min(gathering.max_plus_ones, MAX_GUEST_SLOTS)
        for n in range(1, self.guest_slots + 1):
            self.fields[f"guest_{n}_name"] = forms.CharField(
                label=interpolated_lazy(gettext_noop("Guest %(n)s: name"), n=n),
                max_length=200,
                required=False,
            )
            self.fields[f"guest_{n}_email"] = forms.EmailField(
                label=interpolated_lazy(gettext_noop("Guest %(n)s: e-mail (optional)"), n=n),
                required=False,
            )

    def plus_ones(self) -> list[dict] | None:
        """The guests entered, or None where the gathering takes none (leave them alone)."""
        if not self.guest_slots:
            return None
        data = self.cleaned_data
        return [
            {"name": data[f"guest_{n}_name"], "email": data[f"guest_{n}_email"]}
            for n in range(1, self.guest_slots + 1)
            if data.get(f"guest_{n}_name") or data.get(f"guest_{n}_email")
        ]

    def answer_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("guest_")}
        return {**data, "plus_ones": self.plus_ones()}

    def guest_fields(self):
        return [self[name] for name in self.fields if name.startswith("guest_")]

    def main_fields(self):
        return [
            self[name] for name in self.fields if name != "answer" and not name.startswith("guest_")
        ]


class PersonForm(forms.Form):
    """A colleague: to come instead (substitute) or in addition (within the seats)."""

    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    mode = forms.ChoiceField(
        label=_("Attends"),
        choices=Invitation.Mode.choices,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, prefix_name: str, **kwargs):
        super().__init__(*args, prefix=prefix_name, **kwargs)


class LinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ConsentForm(forms.Form):
    """One checkbox per purpose that has a published text, labelled with the text in the page
    language; a hidden field carries the version shown, so the record names what was read."""

    def __init__(self, *args, texts: dict[str, ConsentText], language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.texts = texts
        self.language = language
        for purpose, text in texts.items():
            self.fields[purpose] = forms.BooleanField(
                label=ConsentPurpose(purpose).label,
                required=False,
                widget=forms.CheckboxInput(attrs={"aria-describedby": f"id_{purpose}-text"}),
            )
            self.fields[f"{purpose}_version"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, initial=text.version
            )

    def purposes(self):
        """(checkbox, hidden version field, text shown) per purpose, for the template."""
        return [
            (self[purpose], self[f"{purpose}_version"], text.text_for(self.language), text)
            for purpose, text in self.texts.items()
        ]

    def version_shown(self, purpose: str) -> int | None:
        return self.cleaned_data.get(f"{purpose}_version")
