"""Django's own sign-up, log-in and password messages, marked here so that makemessages keeps them in
our catalogue. Our catalogue (LOCALE_PATHS) comes before Django's, so these read in the site's 해요체
("…쓸 수 없어요") instead of Django's 합쇼체 ("…사용할 수 없습니다") beside our own sentences.
tests/test_i18n.py checks each one.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_MESSAGES = (
    # Fields and their help.
    gettext_noop("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
    gettext_noop("Enter the same password as before, for verification."),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    gettext_noop("New password confirmation"),
    # Refusals.
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("A user with that username already exists."),
    gettext_noop("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."),
    gettext_noop("The two password fields didn’t match."),
    gettext_noop("This password is too common."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."),
    gettext_noop("This account is inactive."),
    gettext_noop("Your old password was entered incorrectly. Please enter it again."),
)

# (message, number to show it for): Django picks the form by the number.
DJANGO_PLURAL_MESSAGES = (
    (
        ngettext_lazy(
            "Your password must contain at least %(min_length)d character.",
            "Your password must contain at least %(min_length)d characters.",
            "min_length",
        ),
        {"min_length": 8},
    ),
    (
        ngettext_lazy(
            "This password is too short. It must contain at least %d character.",
            "This password is too short. It must contain at least %d characters.",
        ),
        8,
    ),
    (
        ngettext_lazy(
            "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
            "limit_value",
        ),
        {"limit_value": 150, "show_value": 151},
    ),
)
