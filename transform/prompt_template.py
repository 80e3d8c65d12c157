"""The prompt template: `{breed}` where the breed's words go, `{{` and `}}` for a brace itself, no other braces.

One renderer for the page (the prompt shown beside a dog) and the engine (the prompt drawn), so the two
never disagree. It is not str.format: a format spec (`{breed:>999999999}` built a 1 GB prompt), a
conversion (`{breed!r}`), an attribute or index (`{breed.__class__}`) or a positional field (`{0}`, `{}`)
is refused, never rendered. The escapes are str.format's, so templates written for it read the same.
"""

import re

PLACEHOLDER = "{breed}"
_BRACES = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")
_ESCAPES = {"{{": "{", "}}": "}"}
# An offending field is quoted back to the person up to this many characters.
FIELD_SHOWN = 30


class TemplateError(ValueError):
    """Why a template is refused: `code` is "brace" (a brace left open or closed alone), "field" (a field
    other than {breed}, quoted in `field`) or "count" ({breed} missing or repeated)."""

    def __init__(self, code, field=""):
        super().__init__(f"{code}: {field}" if field else code)
        self.code = code
        self.field = field if len(field) <= FIELD_SHOWN else field[: FIELD_SHOWN - 1] + "…"


def check_template(template):
    """TemplateError unless `template` holds {breed} exactly once, and no brace but {{, }} and that one."""
    placeholders = 0
    for match in _BRACES.finditer(template):
        token = match.group()
        if token == PLACEHOLDER:
            placeholders += 1
        elif len(token) == 1:
            raise TemplateError("brace")
        elif token not in _ESCAPES:
            raise TemplateError("field", token)
    if placeholders != 1:
        raise TemplateError("count")


def render_prompt(template, breed_words):
    """The prompt: {breed} replaced by `breed_words`, {{ and }} by one brace; TemplateError as check_template() says."""
    check_template(template)
    return _BRACES.sub(lambda match: _ESCAPES.get(match.group(), breed_words), template)
