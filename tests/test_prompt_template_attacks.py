"""Round 3, finding 3: format specs in the prompt template reached the worker (docs/SECURITY.md).

`{breed:>999999999}` was accepted and would have built a 1 GB prompt in the GPU worker; `{breed!r}` was
accepted too. The page rendered the template with `.replace` and the engine with `str.format`, so the two
disagreed on `{{`. Now `{breed}` alone is allowed, `{{` and `}}` are literal braces, and one renderer
(transform.prompt_template) serves both.
"""

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils.html import escape

from gallery.models import Generation
from transform.params import GenerationParams, InvalidParams
from transform.prompt_template import render_prompt

from .factories import make_generation, make_photo, make_user

REFUSED = {
    "{breed:>999999999}": "“{breed:>999999999}” is not allowed: only {breed} may stand in braces",
    "a {breed!r}": "“{breed!r}” is not allowed",
    "{breed.__class__}": "“{breed.__class__}” is not allowed",
    "{0} {breed}": "“{0}” is not allowed",
    "{} {breed}": "“{}” is not allowed",
    "{breed} {": "A brace stands alone",
    "} {breed}": "A brace stands alone",
    "{{breed}": "A brace stands alone",
    "{breed}}": "A brace stands alone",
    "{{breed}}": "Write {breed} exactly once",
    "{breed} and {breed}": "Write {breed} exactly once",
}


class GenerateFormTests(TestCase):
    def setUp(self):
        self.user = make_user()
        self.photo = make_photo(self.user)
        self.client.force_login(self.user)
        self.url = reverse("gallery:generate", args=[self.photo.pk])

    def post(self, template):
        return self.client.post(self.url, {"face": 0, "breed": "pug", "prompt_template": template})

    def test_each_field_but_breed_and_each_stray_brace_is_refused_with_a_sentence_and_nothing_made(self):
        for template, sentence in REFUSED.items():
            with self.subTest(template):
                self.assertContains(self.post(template), escape(sentence), status_code=400)
        self.assertFalse(Generation.objects.exists())

    def test_a_long_offending_field_is_quoted_shortened(self):
        response = self.post("{breed:" + "x" * 900 + "}")
        self.assertContains(response, "“{breed:" + "x" * 22 + "…” is not allowed", status_code=400)

    def test_literal_braces_and_breed_are_accepted(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.post("a {{dynamic}} {breed}")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Generation.objects.get().params["prompt_template"], "a {{dynamic}} {breed}")


class OneRendererTests(TestCase):
    def test_the_page_shows_the_prompt_the_engine_draws(self):
        user = make_user()
        self.client.force_login(user)
        params = GenerationParams.from_dict({"prompt_template": "a {{dynamic}} }}{{ {breed}"})
        generation = make_generation(make_photo(user), params=params.to_dict())
        self.assertEqual(params.prompt_for("pug"), "a {dynamic} }{ pug")
        page = self.client.get(reverse("gallery:generation", args=[generation.pk]))
        self.assertContains(page, "a {dynamic} }{ pug")
        self.assertNotContains(page, "{{dynamic}}")


def test_the_engine_never_renders_a_template_the_form_refuses():
    with pytest.raises(ValueError):
        render_prompt("{breed:>999999999}", "pug")


@pytest.mark.parametrize("template", REFUSED)
def test_the_parameters_refuse_what_the_form_refuses(template):
    with pytest.raises(InvalidParams):
        GenerationParams.from_dict({"prompt_template": template})
