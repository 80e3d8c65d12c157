from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from transform.strict_numbers import parse_decimal, parse_integer

from .breed_names import breeds_by_name


class StrictNumberMixin:
    """Reads the field with a transform.strict_numbers parser: Django's own int() and float() read "٣" as 3,
    "1_000" as 1000 and "+1" as 1. A person's spaces around the number are forgiven."""

    parse = None

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return type(self).parse(str(value).strip())
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class WholeNumberField(StrictNumberMixin, forms.IntegerField):
    parse = staticmethod(parse_integer)


class DecimalNumberField(StrictNumberMixin, forms.FloatField):
    parse = staticmethod(parse_decimal)


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), help_text=_("Only used to confirm your sign-up and to reset your password."))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self):
        # A taken address is not an error: the sign-up view mails its owner instead (docs/SECURITY.md).
        return self.cleaned_data["email"].strip()


class ActivationForm(forms.Form):
    """The password chosen when signing up, typed again on the page the sign-up mail links to."""

    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


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
            raise forms.ValidationError(_("That is not your password."), code="password_incorrect")
        return password


# transform.uploads refuses with a code and the limit broken; the words, in the user's language, are here.
UPLOAD_REFUSALS = {
    "empty": _("The file is empty."),
    "unsupported": _("This file is not a supported image; please upload a JPEG, PNG, WebP or HEIC photo."),
    "corrupt": _("This image is damaged or incomplete, so it cannot be read."),
    "too_big": _("This file is larger than %(size)s; please upload a smaller photo."),
    "too_many_pixels": _("This photo has more than %(megapixels)s megapixels; please upload a smaller one."),
    "too_small": _("This photo is too small; it must be at least %(pixels)d pixels on each side."),
    "side_too_long": _("This photo is more than %(pixels)d pixels long on one side; please upload a smaller one."),
    "too_many_parts": _("This image is made of too many blocks to read; please save it again from a photo app or editor."),
}


def upload_refusal_message(refusal):
    """The sentence for a transform.uploads.UploadRejected, in the active language."""
    message = str(UPLOAD_REFUSALS[refusal.code])
    if refusal.limit is None:
        return message
    limit = refusal.limit
    return message % {"size": file_size(limit), "megapixels": round(limit / 1e6), "pixels": limit}


def file_size(size):
    """A size limit in bytes as people read it: "20 MB", "12.5 MB", "97.7 KB", "100 bytes" (Korean
    writes units without a space: "20MB")."""
    if size < 2**10:
        return ngettext("%(number)s byte", "%(number)s bytes", size) % {"number": size}
    amount, unit = (size / 2**10, gettext("%(number)s KB")) if size < 2**20 else (size / 2**20, gettext("%(number)s MB"))
    # One decimal, dropped where it is 0: 20 MB, not 20.0 MB.
    return unit % {"number": f"{amount:.1f}".removesuffix(".0")}


class UploadForm(forms.Form):
    """A photo upload: cleaned by transform.uploads while validating (faces are found by the view, after)."""

    # Not required and empty files allowed: transform.uploads refuses each case with its own code.
    image = forms.FileField(label=_("Your photo"), required=False, allow_empty_file=True)

    def __init__(self, *args, too_large=False, **kwargs):
        self.too_large = too_large
        super().__init__(*args, **kwargs)

    def clean(self):
        from transform.uploads import UploadRejected, clean_upload, too_big

        if self.too_large:
            raise forms.ValidationError(upload_refusal_message(too_big(settings.FTA_UPLOAD_MAX_BYTES)), code="too_big")
        upload = self.cleaned_data.get("image")
        if upload is None:
            raise forms.ValidationError(_("Please choose a photo to upload."), code="missing")
        try:
            self.photo = clean_upload(
                upload,
                upload.name,
                max_bytes=settings.FTA_UPLOAD_MAX_BYTES,
                max_pixels=settings.FTA_UPLOAD_MAX_PIXELS,
                min_side=settings.FTA_UPLOAD_MIN_SIDE,
            )
        except UploadRejected as exc:
            raise forms.ValidationError(upload_refusal_message(exc), code=exc.code) from None
        return self.cleaned_data


def upload_rules_text():
    return _("JPEG, PNG, WebP or HEIC (iPhone), up to %(size)s and %(mp)d megapixels, at least %(min)d pixels on each side.") % {
        "size": file_size(settings.FTA_UPLOAD_MAX_BYTES),
        "mp": settings.FTA_UPLOAD_MAX_PIXELS // 1_000_000,
        "min": settings.FTA_UPLOAD_MIN_SIDE,
    }


# The control modes are AUTOMATIC1111's own English values (transform.params.CONTROL_MODES); these are
# their labels on the form, written out so makemessages finds them. An unknown mode shows its value.
CONTROL_MODE_LABELS = {
    "Balanced": _("Balanced"),
    "My prompt is more important": _("My prompt is more important"),
    "ControlNet is more important": _("ControlNet is more important"),
}


class BreedRadioSelect(forms.RadioSelect):
    """Breed radios carrying every name the breed answers to, for the search box (static/js/breeds.js)."""

    search_keys = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.search_keys:
            option["attrs"]["data-search"] = self.search_keys[value]
        return option


class GenerateForm(forms.Form):
    """What the photo page posts to make a dog; parameters are validated by transform.params."""

    AUTO = "auto"
    PARAM_FIELDS = (
        "prompt_template",
        "negative_prompt",
        "seed",
        "steps",
        "cfg_scale",
        "sampler",
        "controlnet_scale",
        "control_mode",
        "guidance_start",
        "guidance_end",
        "mode",
        "strength",
        "width",
        "height",
    )

    face = forms.TypedChoiceField(label=_("Face"), coerce=int, widget=forms.RadioSelect)
    breed = forms.ChoiceField(label=_("Breed"), widget=BreedRadioSelect)
    prompt_template = forms.CharField(
        label=_("Prompt"),
        required=False,
        # Model input: English on purpose, whatever the page's language.
        widget=forms.Textarea(attrs={"rows": 2, "translate": "no", "lang": "en"}),
        help_text=_("Write {breed} where the breed goes."),
    )
    negative_prompt = forms.CharField(
        label=_("Negative prompt"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "translate": "no", "lang": "en"}),
        help_text=_("What the picture should not show."),
    )
    count = forms.TypedChoiceField(label=_("How many"), coerce=int, choices=[(1, "1"), (4, "4")], initial=1, required=False)
    seed = WholeNumberField(
        label=_("Seed"),
        required=False,
        min_value=-1,
        help_text=_("Empty for a random one. The same seed and settings give the same dog."),
    )
    steps = WholeNumberField(
        label=_("Steps"), required=False, help_text=_("More steps: finer detail, slower (20 is the recipe's).")
    )
    cfg_scale = DecimalNumberField(
        label=_("CFG scale"), required=False, help_text=_("How closely the picture follows the words (7 is the recipe's).")
    )
    sampler = forms.ChoiceField(
        label=_("Sampler"), required=False, help_text=_("The denoising method, by its AUTOMATIC1111 name.")
    )
    controlnet_scale = DecimalNumberField(
        label=_("ControlNet weight"),
        required=False,
        help_text=_("How strongly your face's pose and expression steer the dog (0–2)."),
    )
    control_mode = forms.ChoiceField(
        label=_("Control mode"), required=False, help_text=_("Whether the words or your face's shape win when they disagree.")
    )
    guidance_start = DecimalNumberField(
        label=_("Guidance start"), required=False, help_text=_("When the face guidance starts, as a fraction of the steps.")
    )
    guidance_end = DecimalNumberField(
        label=_("Guidance end"), required=False, help_text=_("When the face guidance stops, as a fraction of the steps.")
    )
    mode = forms.ChoiceField(
        label=_("Start from"), required=False, help_text=_("“img2img” starts from your photo and keeps more of its colours.")
    )
    strength = DecimalNumberField(
        label=_("img2img strength"), required=False, help_text=_("img2img only: how much of your photo is repainted (0–1).")
    )
    width = forms.TypedChoiceField(label=_("Width"), coerce=int, required=False)
    height = forms.TypedChoiceField(label=_("Height"), coerce=int, required=False)

    def __init__(self, photo, *args, defaults=None, **kwargs):
        """`defaults`: parameters the workers' pipeline draws best with (gallery.generations.readiness), in
        place of the recipe's where the person sets none (the tiny test pipeline's 256 px)."""
        from transform import params

        super().__init__(*args, **kwargs)
        self.photo = photo
        self.defaults = {name: value for name, value in (defaults or {}).items() if name in ("width", "height")}
        self.fields["face"].choices = [(i, _("Face %(n)d") % {"n": i + 1}) for i in range(photo.face_count)]
        self.fields["face"].initial = 0
        breeds = breeds_by_name()
        match_me = [(self.AUTO, _("Match me"))] if self._has_suggestions() else []
        self.fields["breed"].choices = match_me + [(b.slug, b.name) for b in breeds]
        self.fields["breed"].widget.search_keys = {b.slug: b.search_key for b in breeds}
        self.fields["breed"].initial = self.AUTO if match_me else "golden-retriever"
        recipe = params.GenerationParams()
        self.fields["sampler"].choices = [(name, name) for name in params.SAMPLER_NAMES]
        self.fields["control_mode"].choices = [(name, CONTROL_MODE_LABELS.get(name, name)) for name in params.CONTROL_MODES]
        self.fields["mode"].choices = [(name, name) for name in params.MODES]
        sizes = range(params.SIZE_RANGE[0], params.SIZE_RANGE[1] + 1, params.SIZE_MULTIPLE)
        for name in ("width", "height"):
            self.fields[name].choices = [(size, str(size)) for size in sizes]
        for name in self.PARAM_FIELDS:
            if name != "seed":
                self.fields[name].initial = self.defaults.get(name, getattr(recipe, name))

    def _has_suggestions(self):
        return any(face.get("suggested_breeds") for face in self.photo.faces)

    def clean(self):
        from transform.params import GenerationParams, InvalidParams
        from transform.suggest import coat_for_hair

        data = super().clean()
        if self.errors:
            return data
        breed = data["breed"]
        face = self.photo.faces[data["face"]]
        if breed == self.AUTO:
            suggestions = face.get("suggested_breeds") or []
            if not suggestions:
                raise forms.ValidationError({"breed": _("We have no suggestion for this face: please pick a breed.")})
            breed = suggestions[0]["slug"]
        data["breed_slug"] = breed
        data["coat"] = coat_for_hair(breed, face.get("hair")) or ""
        given = {**self.defaults, **{name: data[name] for name in self.PARAM_FIELDS if data.get(name) not in (None, "")}}
        if "negative_prompt" in self.data:  # sent empty: no negative prompt at all (absent: the recipe's)
            given["negative_prompt"] = data["negative_prompt"]
        try:
            data["params"] = GenerationParams.from_dict(given)
        except InvalidParams as exc:
            for name, problem in exc.errors.items():
                self.add_error(name if name in self.fields else None, gettext(problem.template) % problem.values)
        return data


class GroupForm(forms.Form):
    """ "Make everyone a dog": POST `faces` (0-based indices, repeated; every face when absent) and
    `breed_<index>` (a breed's slug, or "auto" for the face's own first suggestion)."""

    AUTO = "auto"

    def __init__(self, photo, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.photo = photo
        self.choices, self.skipped = [], []

    def face_breed(self, index):
        """The slug for one face: the one posted, else the face's first suggestion; None if it has none."""
        posted = self.data.get(f"breed_{index}", self.AUTO) if self.is_bound else self.AUTO
        if posted != self.AUTO:
            return posted
        suggestions = self.photo.faces[index].get("suggested_breeds") or []
        return suggestions[0]["slug"] if suggestions else None

    def chosen_indices(self, count):
        """The posted `faces` (every face when none is posted), sorted; None unless each is an index below `count`."""
        posted = self.data.getlist("faces") if hasattr(self.data, "getlist") else []
        try:
            indices = sorted({parse_integer(value, negative=False) for value in posted})
        except ValueError:
            return None
        if not posted:
            return list(range(count))
        return indices if indices[-1] < count else None

    def clean(self):
        from transform.breeds import is_breed
        from transform.group_masks import FaceSkipped, crop_box
        from transform.head_crop import InvalidFace
        from transform.suggest import coat_for_hair

        data = super().clean()
        count = self.photo.face_count
        indices = self.chosen_indices(count)
        if indices is None:
            raise forms.ValidationError(_("Choose faces of this photo."))
        if not indices:
            raise forms.ValidationError(_("This photo has no faces to make into dogs."))
        if len(indices) > settings.FTA_MAX_FACES_PER_GROUP:
            raise forms.ValidationError(
                _("A group can have at most %(max)d faces: please choose fewer.") % {"max": settings.FTA_MAX_FACES_PER_GROUP}
            )
        for index in indices:
            face = self.photo.faces[index]
            breed = self.face_breed(index)
            if breed is None or not is_breed(breed):
                raise forms.ValidationError(_("Pick a breed for face %(n)d.") % {"n": index + 1})
            try:
                crop_box(face, (self.photo.width, self.photo.height))
            except (FaceSkipped, InvalidFace):
                self.skipped.append({"index": index, "reason": "too_small"})
                continue
            self.choices.append({"index": index, "breed": breed, "coat": coat_for_hair(breed, face.get("hair")) or ""})
        if not self.choices:
            raise forms.ValidationError(_("The chosen faces are all too small to make into dogs."))
        return data
