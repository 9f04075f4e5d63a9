from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _(
            "That email and password do not match an account. Check both and try "
            "again, or use “Forgot your password?” below."
        ),
        "inactive": _("This account has been switched off. Ask the clinic manager to restore it."),
    }
