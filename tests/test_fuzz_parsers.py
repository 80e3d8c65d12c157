"""Every parser of what people send, fuzzed with hypothesis under a time bound per input (docs/SECURITY.md).

Each input must be answered (a value, or the parser's own refusal) within DEADLINE. The inputs are built to
be long and repetitive where that hurts a backtracking parser: the pattern this round replaced took 3 s on a
16 KB line and minutes on 64 KB, so a super-linear parser fails here, while a linear one answers the longest
input in about 0.02 s: the bound leaves room for a loaded machine. The whole module runs in well under a
minute.
"""

import io
import re
from datetime import timedelta

from django.http import QueryDict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from gallery.forms import GenerateForm, GroupForm
from gallery.models import Photo
from transform import params
from transform.infotext import MAX_TEXT_BYTES, NotAPng, find_pairs, read_png_parameters
from transform.prompt_template import TemplateError, render_prompt
from transform.reuse import ReusedSettings, reuse_settings
from transform.strict_numbers import parse_decimal, parse_integer
from transform.uploads import CleanedPhoto, UploadRejected, clean_upload

from . import sample_images as samples
from .factories import fake_face
from .png_files import SIGNATURE, chunk, png_with_chunks

DEADLINE = timedelta(seconds=2)
FUZZ = settings(
    max_examples=60,
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# Pieces of A1111 infotext and of what breaks parsers, repeated to long runs.
PIECES = [
    "a", " ", ":", ",", '"', "\\", "(", ")", "-", "/", "\n", "\t", "{", "}", "é", "٣", "²", "🐶",
    "Steps", "Seed", "Key", ": ", ", ", '\\"', '": "', "1e400", "inf", "nan", "-1", "512x512",
    "Negative prompt:", "ControlNet 0: ", "Size: ", "Breed: pug", "Hires steps: ", "pug", "golden retriever",
]  # fmt: skip


@st.composite
def hostile_text(draw, limit=MAX_TEXT_BYTES):
    """A short random head, then a unit of pieces repeated to a long run: where a backtracking parser hurts most."""
    head = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=12)))
    unit = "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3)))
    length = min(limit, 2 ** draw(st.integers(10, 16)) + draw(st.integers(0, 255)))
    return (head + unit * (length // len(unit) + 1))[:length]


def check_reused(reused):
    """What the reader answers is what the form accepts, and every value left out has a reason."""
    assert isinstance(reused, ReusedSettings)
    for name, value in reused.params.items():
        assert params.check_value(name, value) == value
    assert all(isinstance(key, str) and reason for key, reason in reused.ignored)


@settings(FUZZ, max_examples=100)
@given(hostile_text())
@example("a dog\n" + "a" * MAX_TEXT_BYTES)  # the attack as reported: a long last line with no colon
@example("Steps: 20, " + "Key: (x, " * (MAX_TEXT_BYTES // 9))
@example("Steps: 20, " + 'K: "\\"' * (MAX_TEXT_BYTES // 6))
def test_any_settings_text_is_read_in_time(text):
    check_reused(reuse_settings(text))


@FUZZ
@given(st.text(st.sampled_from('ab :,"\\()-/\n\té1_'), max_size=60))
def test_the_linear_pair_finder_finds_what_a1111s_own_pattern_finds(line):
    a1111 = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|\([^)]*\)|[^,]*)(?:,|$)')
    assert find_pairs(line) == a1111.findall(line)


# How many blocks a flood repeats: up to past image_structure.MAX_PARTS.
FLOOD = st.integers(0, 16).map(lambda k: 2**k - 1)  # 65,535 > image_structure.MAX_PARTS
CHUNK_KINDS = [b"tEXt", b"zTXt", b"iTXt", b"IHDR", b"IDAT", b"IEND", b"prVt"]


@st.composite
def hostile_png(draw):
    """PNG signatures followed by floods of chunks, some with lying lengths, some with a `parameters` text."""
    kinds = st.sampled_from(CHUNK_KINDS)
    bodies = st.one_of(st.binary(max_size=64), st.just(b"parameters\0"), hostile_text(limit=2000).map(str.encode))
    made = [chunk(kind, body) for kind, body in draw(st.lists(st.tuples(kinds, bodies), max_size=8))]
    flood = chunk(draw(kinds), draw(st.binary(max_size=8))) * draw(FLOOD)
    data = SIGNATURE + b"".join(made) + flood
    cut = draw(st.integers(len(SIGNATURE), len(data)))
    return data[:cut]


@FUZZ
@given(hostile_png())
def test_any_png_is_read_or_refused_in_time(data):
    try:
        text = read_png_parameters(data)
    except NotAPng:
        return
    if text is not None:
        check_reused(reuse_settings(text))


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_after_a_png_signature_are_read_or_refused(data):
    try:
        read_png_parameters(SIGNATURE + data)
    except NotAPng:
        pass


@st.composite
def hostile_upload(draw):
    """Real small PNGs and JPEGs stuffed with floods of blocks, fill bytes or stray bytes."""
    count = draw(FLOOD)
    if draw(st.booleans()):
        block = chunk(draw(st.sampled_from(CHUNK_KINDS[:3] + [b"prVt"])), draw(st.binary(max_size=16)))
        return png_with_chunks([block] * count)
    jpeg = samples.encode(Image.new("RGB", (64, 64), "white"), "JPEG")
    block = draw(st.sampled_from([b"\xff\xfe\x00\x03a", b"\xff", b"\x00", b"\xff\xe1\x00\x02"]))
    return jpeg[:2] + block * count + jpeg[2:]


@FUZZ
@given(hostile_upload())
def test_any_stuffed_upload_is_cleaned_or_refused_in_time(data):
    try:
        cleaned = clean_upload(io.BytesIO(data), "x", max_bytes=20 * 1024 * 1024, max_pixels=40_000_000, min_side=64)
    except UploadRejected:
        return
    assert isinstance(cleaned, CleanedPhoto)


# Numbers: what a person may type in a form field, a PNG's settings or a face index.
NUMBERISH = st.one_of(
    st.text(max_size=30),
    st.text(st.sampled_from("0123456789-+.eE _٣²３ \t"), max_size=30),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(1, 6000).map(lambda n: "9" * n),
)


@FUZZ
@given(NUMBERISH)
def test_a_whole_number_is_ascii_digits_or_refused(text):
    try:
        number = parse_integer(text)
    except ValueError:
        return
    assert text.isascii() and int(text) == number


@FUZZ
@given(NUMBERISH)
def test_a_decimal_number_is_finite_ascii_or_refused(text):
    try:
        number = parse_decimal(text)
    except ValueError:
        return
    assert text.isascii() and float(text) == number and abs(number) < float("inf")


NUMBER_FIELDS = ["seed", "steps", "cfg_scale", "controlnet_scale", "guidance_start", "guidance_end", "strength"]
PHOTO = Photo(width=512, height=512, face_count=3, landmarks={"version": 1, "faces": [fake_face()] * 3})


@FUZZ
@given(st.sampled_from(NUMBER_FIELDS), NUMBERISH)
def test_the_generate_forms_number_fields_accept_or_refuse_any_text(field, text):
    form = GenerateForm(PHOTO, {"face": "0", "breed": "pug", field: text})
    if form.is_valid() and form.cleaned_data[field] not in (None, -1):  # none, or a seed of -1: the default
        assert form.cleaned_data["params"].to_dict()[field] == form.cleaned_data[field]


@FUZZ
@given(st.lists(NUMBERISH, max_size=5))
def test_the_group_forms_face_indices_accept_or_refuse_any_text(faces):
    data = QueryDict(mutable=True)
    data.setlist("faces", faces)
    data.update({f"breed_{i}": "pug" for i in range(3)})
    form = GroupForm(PHOTO, data)
    if form.is_valid():
        assert {choice["index"] for choice in form.choices} <= {0, 1, 2}


@FUZZ
@given(st.lists(st.sampled_from(["{", "}", "{breed}", "breed", "x", ":", "!r", ">9", "0", "."]), max_size=20).map("".join))
def test_a_prompt_template_renders_like_str_format_or_is_refused(template):
    try:
        prompt = render_prompt(template, "pug")
    except TemplateError:
        return
    assert prompt == template.format(breed="pug")
    assert len(prompt) <= len(template)
