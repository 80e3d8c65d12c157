"""The dog breed catalogue (data in data/breeds.json). Safe to import in the web process."""

import json
import unicodedata
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
    aliases: tuple = ()

    @property
    def name(self):
        """The name in the active language."""
        return self.name_ko if _korean() else self.name_en

    @property
    def search_key(self):
        """Every name the breed answers to, in both languages, lower case without spaces, "|" between."""
        return "|".join(search_form(name) for name in (self.name_en, self.name_ko, *self.aliases))

    def prompt_fragment(self, coat=None):
        """Words for the prompt; a coat colour only where the breed has several to choose from."""
        if coat and len(self.coats) > 1 and coat in self.coats:
            return f"{coat} {self.prompt}"
        return self.prompt

    def __str__(self):
        return self.name


def _korean():
    return (get_language() or "en").startswith("ko")


def search_form(text):
    """How breed search compares names: case and spacing ignored ("웰시 코기" finds 웰시코기)."""
    return "".join(unicodedata.normalize("NFC", text).lower().split())


@lru_cache(maxsize=1)
def _data():
    return json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _catalogue():
    return {
        e["slug"]: Breed(e["slug"], e["en"], e["ko"], e["prompt"], tuple(e["coats"]), tuple(e.get("aliases", ())))
        for e in _data()["breeds"]
    }


def coat_name(coat, language=None):
    """A catalogue coat colour ("black and tan") in Korean for a "ko…" language, else as it is;
    without a language, in the active one."""
    korean = language.startswith("ko") if language else _korean()
    return _data()["coat_names"].get(coat, coat) if korean else coat


def all_breeds():
    return list(_catalogue().values())


def get_breed(slug):
    """The breed for a slug; KeyError for an unknown one."""
    return _catalogue()[slug]


def is_breed(slug):
    return slug in _catalogue()
