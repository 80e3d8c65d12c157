"""The dog breed catalogue (data in data/breeds.json). Safe to import in the web process.

Names come in English and Korean; the caller says which language it wants (the web passes the page's)."""

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOGUE_PATH = Path(__file__).with_name("data") / "breeds.json"


@dataclass(frozen=True)
class Breed:
    slug: str
    name_en: str
    name_ko: str
    prompt: str
    coats: tuple
    aliases: tuple = ()

    def name_in(self, language: str) -> str:
        """The name in `language` (an IETF tag: "ko", "ko-kr" or "en"): Korean for Korean, else English."""
        return self.name_ko if language.lower().startswith("ko") else self.name_en

    @property
    def search_key(self) -> str:
        """Every name the breed answers to, in both languages, lower case without spaces, "|" between."""
        return "|".join(search_form(name) for name in (self.name_en, self.name_ko, *self.aliases))

    def prompt_fragment(self, coat: str | None = None) -> str:
        """Words for the prompt; a coat colour only where the breed has several to choose from."""
        if coat and len(self.coats) > 1 and coat in self.coats:
            return f"{coat} {self.prompt}"
        return self.prompt

    def __str__(self) -> str:
        return self.slug


def search_form(text: str) -> str:
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


def coat_name(coat: str, language: str) -> str:
    """A catalogue coat colour ("black and tan") in Korean for a "ko…" language, else as it is."""
    return _data()["coat_names"].get(coat, coat) if language.lower().startswith("ko") else coat


def all_breeds() -> list[Breed]:
    return list(_catalogue().values())


def get_breed(slug: str) -> Breed:
    """The breed for a slug; KeyError for an unknown one."""
    return _catalogue()[slug]


def is_breed(slug: str) -> bool:
    return slug in _catalogue()
