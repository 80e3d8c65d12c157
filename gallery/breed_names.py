"""Breeds as the page shows them: names in the page's language (transform.breeds takes the language as an argument)."""

from dataclasses import dataclass

from django.utils.translation import get_language

from transform.breeds import all_breeds, coat_name, get_breed, is_breed


@dataclass(frozen=True)
class BreedOption:
    """A breed in a list or heading: its slug, its name in the page's language, the names search matches."""

    slug: str
    name: str
    search_key: str


def page_language() -> str:
    return get_language() or "en"


def breed_name(slug: str) -> str:
    """The breed's name in the page's language; a slug no longer in the catalogue as it is."""
    return get_breed(slug).name_in(page_language()) if is_breed(slug) else slug


def breed_option(slug: str) -> BreedOption | None:
    if not is_breed(slug):
        return None
    breed = get_breed(slug)
    return BreedOption(breed.slug, breed.name_in(page_language()), breed.search_key)


def breeds_by_name(slugs: set[str] | None = None) -> list[BreedOption]:
    """Every breed of the catalogue (or those of `slugs`), sorted by their names in the page's language."""
    language = page_language()
    options = [
        BreedOption(breed.slug, breed.name_in(language), breed.search_key)
        for breed in all_breeds()
        if slugs is None or breed.slug in slugs
    ]
    return sorted(options, key=lambda option: option.name)


def coat_in_words(coat: str) -> str:
    """A catalogue coat colour in the page's language."""
    return coat_name(coat, page_language())
