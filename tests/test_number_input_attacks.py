"""Round 3, finding 7: numbers people write that Python reads otherwise (docs/SECURITY.md).

`faces=²` on generate-group gave a 500 ("²".isdigit() is true, int("²") raises); `faces=٣` was taken as face 3;
`Seed: inf`, `Seed: 1e400` and `Steps: 1e999` in a PNG's parameters raised OverflowError. Every number a person
writes is now read by transform.strict_numbers: ASCII digits only, finite, refused with a sentence otherwise.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, TestCase
from django.urls import reverse

from gallery.models import Generation
from transform.prompting import parse_attention
from transform.reuse import INVALID, reuse_settings
from transform.strict_numbers import parse_decimal, parse_integer

from .factories import make_photo, make_user
from .png_files import png_with_parameters
from .processes import run_python

# Text that Python's int() or float() (or str.isdigit()) takes for a number a person did not write.
NOT_WHOLE_NUMBERS = ["²", "٣", "３", "+1", " 1", "1 ", "1_0", "1e3", "1.0", "0x1", "", "-", "inf", "nan", "9" * 5000]
NOT_NUMBERS = ["٧", "７.５", "1_0.5", "inf", "-inf", "nan", "NaN", "1e400", "-1e999", " 7", ".", "", "9" * 400]


@pytest.mark.parametrize("text", NOT_WHOLE_NUMBERS)
def test_the_integer_parser_refuses_what_is_not_ascii_digits(text):
    with pytest.raises(ValueError):
        parse_integer(text)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_the_decimal_parser_refuses_what_is_not_a_finite_ascii_number(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_the_parsers_read_plain_numbers():
    assert [parse_integer(text) for text in ("0", "-1", "007", "4294967295")] == [0, -1, 7, 4294967295]
    assert [parse_decimal(text) for text in ("7", "-0.5", ".5", "7.", "1e-05", "2E+1")] == [7, -0.5, 0.5, 7, 1e-05, 20]
    assert (parse_integer(3), parse_decimal(3), parse_decimal(2.5)) == (3, 3.0, 2.5)


def test_face_indices_refuse_a_minus_sign_even_on_zero():
    with pytest.raises(ValueError):
        parse_integer("-0", negative=False)


class GroupFacesTests(TestCase):
    def setUp(self):
        user = make_user()
        self.client.force_login(user)
        self.photo = make_photo(user, faces=4)
        self.url = reverse("gallery:generate-group", args=[self.photo.pk])

    def test_a_face_that_is_not_written_in_ascii_digits_is_refused_with_a_sentence(self):
        breeds = {f"breed_{i}": "pug" for i in range(4)}
        for face in ["²", "٣", "３", "+1", " 1", "1 ", "-0", "-1", "1.0", "", "99999999999999999999999", "9" * 5000]:
            with self.subTest(face=face[:20]):
                response = self.client.post(self.url, {"faces": ["0", face], **breeds})
                self.assertContains(response, "Choose faces of this photo.", status_code=400)
        self.assertFalse(Generation.objects.exists())

    def test_plain_indices_still_choose_faces(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, {"faces": ["3", "0"], "breed_0": "pug", "breed_3": "beagle"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual([face["index"] for face in Generation.objects.get().group_faces], [0, 3])


class GenerateFormNumbersTests(TestCase):
    def setUp(self):
        user = make_user()
        self.client.force_login(user)
        self.url = reverse("gallery:generate", args=[make_photo(user).pk])

    def test_other_scripts_digits_and_python_spellings_are_refused_not_read(self):
        for field, value, sentence in [
            ("steps", "٣", "Enter a whole number."),
            ("steps", "+20", "Enter a whole number."),
            ("seed", "1_000", "Enter a whole number."),
            ("seed", "1e400", "Enter a whole number."),
            ("cfg_scale", "٧", "Enter a number."),
            ("cfg_scale", "1e400", "Enter a number."),
            ("guidance_end", "nan", "Enter a number."),
        ]:
            with self.subTest(field=field, value=value):
                response = self.client.post(self.url, {"face": 0, "breed": "pug", field: value})
                self.assertContains(response, sentence, status_code=400)
        self.assertFalse(Generation.objects.exists())

    def test_numbers_with_spaces_around_them_are_read(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(self.url, {"face": 0, "breed": "pug", "steps": " 12 ", "cfg_scale": "6.5 "})
        self.assertEqual((Generation.objects.get().params["steps"], Generation.objects.get().params["cfg_scale"]), (12, 6.5))


PNG_NUMBERS = [
    ("Seed", "inf"),
    ("Seed", "1e400"),
    ("Steps", "1e999"),
    ("Seed", "nan"),
    ("Seed", "²"),
    ("Steps", "٣"),
    ("CFG scale", "٧"),
    ("CFG scale", "inf"),
    ("CFG scale", "1e400"),
    ("Denoising strength", "nan"),
    ("Size", "٥١٢x٥١٢"),
]


@pytest.mark.parametrize("key, value", PNG_NUMBERS)
def test_a_png_number_python_reads_otherwise_is_left_out_as_invalid(key, value):
    reused = reuse_settings(f"a pug\nSampler: Euler a, {key}: {value}, Model: x")
    assert (key, INVALID) in reused.ignored
    assert reused.params["sampler"] == "Euler a"


class ParamsFromPngNumbersTests(TestCase):
    def test_the_reader_answers_with_the_values_it_left_out_and_why(self):
        self.client.force_login(make_user())
        text = "a pug\nSteps: 1e999, Seed: 1e400, CFG scale: inf, Sampler: Euler a"
        png = SimpleUploadedFile("found.png", png_with_parameters(text))
        response = self.client.post(reverse("gallery:params-from-png"), {"png": png})
        self.assertEqual(response.status_code, 200)
        invalid = "The value is outside what the form allows."
        expected = [{"key": key, "reason": invalid} for key in ("Steps", "CFG scale", "Seed")]
        self.assertEqual(response.json()["ignored"], expected)


@pytest.mark.parametrize("prompt", ["(dog:1.2.3)", "(dog:.)", "(dog:١)", "(dog:" + "9" * 400 + ")"])
def test_a_prompt_weight_python_cannot_read_is_words_not_a_crash(prompt):
    assert "dog" in "".join(text for text, _weight in parse_attention(prompt))


class NumericSettingsTests(SimpleTestCase):
    def test_a_number_setting_that_is_not_ascii_digits_stops_start_up_with_one_line(self):
        for value in ("٣", "10m", "1e3"):
            with self.subTest(value=value):
                result = run_python("import django; django.setup()", FTA_PARAMS_PNG_READS_PER_HOUR=value)
                self.assertEqual(result.returncode, 1)
                self.assertEqual(
                    result.stderr.strip(),
                    f"Facetoanimals: FTA_PARAMS_PNG_READS_PER_HOUR must be a whole number, 1 or more, not {value!r}.",
                )
