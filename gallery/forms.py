from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), help_text=_("Only used to reset your password."))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email address already exists."))
        return email


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password


class UploadForm(forms.Form):
    """A photo upload: cleaned (transform.uploads) and searched for faces (transform.faces) while validating."""

    image = forms.FileField(
        label=_("Your photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,.heic,.heif"}),
    )

    def __init__(self, *args, too_large=False, **kwargs):
        self.too_large = too_large
        super().__init__(*args, **kwargs)

    def clean(self):
        from transform.faces import analyze_faces
        from transform.uploads import UploadRejected, clean_upload

        if self.too_large:
            raise forms.ValidationError(upload_limits_text()["too_large"], code="too_large")
        upload = self.cleaned_data.get("image")
        if upload is None:
            return self.cleaned_data
        try:
            self.photo = clean_upload(
                upload,
                upload.name,
                max_bytes=settings.FTA_UPLOAD_MAX_BYTES,
                max_pixels=settings.FTA_UPLOAD_MAX_PIXELS,
                min_side=settings.FTA_UPLOAD_MIN_SIDE,
            )
        except UploadRejected as exc:
            raise forms.ValidationError(str(exc), code="rejected") from None
        self.landmarks = analyze_faces(self.photo.image)
        if not self.landmarks["faces"]:
            raise forms.ValidationError(
                _("We couldn't find a face in this photo. Try one where your face is well lit and facing the camera."),
                code="no_face",
            )
        return self.cleaned_data


def upload_limits_text():
    megabytes = settings.FTA_UPLOAD_MAX_BYTES // (1024 * 1024)
    megapixels = settings.FTA_UPLOAD_MAX_PIXELS // 1_000_000
    return {
        "too_large": _("This file is larger than %(mb)d MB. Please choose a smaller photo.") % {"mb": megabytes},
        "limits": _(
            "JPEG, PNG, WebP or HEIC (iPhone), up to %(mb)d MB and %(mp)d megapixels, at least %(min)d pixels on each side."
        )
        % {"mb": megabytes, "mp": megapixels, "min": settings.FTA_UPLOAD_MIN_SIDE},
    }
