"""The dog breed catalogue (data in data/breeds.json). Safe to import in the web process."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import get_language

CATALOGUE_PATH = Path(__file__).with_name("data") / "breeds.json"


@dataclass(frozen=True)
class Breed:
    slug: str
    name_en: str
    name_ko: str
    prompt: str
    coats: tuple

    @property
    def name(self):
        """The name in the active language."""
        return self.name_ko if (get_language() or "en").startswith("ko") else self.name_en

    def prompt_fragment(self, coat=None):
        """Words for the prompt; a coat colour only where the breed has several to choose from."""
        if coat and len(self.coats) > 1 and coat in self.coats:
            return f"{coat} {self.prompt}"
        return self.prompt

    def __str__(self):
        return self.name


@lru_cache(maxsize=1)
def _catalogue():
    entries = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["breeds"]
    return {e["slug"]: Breed(e["slug"], e["en"], e["ko"], e["prompt"], tuple(e["coats"])) for e in entries}


def all_breeds():
    return list(_catalogue().values())


def get_breed(slug):
    """The breed for a slug; KeyError for an unknown one."""
    return _catalogue()[slug]


def is_breed(slug):
    return slug in _catalogue()
