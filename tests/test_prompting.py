import pytest

from transform.prompting import parse_attention, to_compel


@pytest.mark.parametrize(
    "a1111, compel",
    [
        ("dog, close up, (face portrait:1.1), front face", "dog, close up, (face portrait)1.1, front face"),
        ("a (b) c", "a (b)1.1 c"),
        ("[x]", "(x)0.9091"),
        ("((a)) b", "(a)1.21 b"),
        ("(a (b:2) c)", "(a)1.1 (b)2.2 (c)1.1"),
        (r"\(literal\) (w:0.5)", r"\(literal\) (w)0.5"),
        ("plain, words: here", "plain, words: here"),
    ],
)
def test_a1111_weights_become_compel_weights(a1111, compel):
    assert to_compel(a1111) == compel


def test_unclosed_brackets_still_weigh_like_a1111():
    assert parse_attention("(a:1.5) [b") == [("a", 1.5), (" ", 1.0), ("b", pytest.approx(1 / 1.1))]


def test_weights_change_the_embeddings(tiny_engine):
    from transform.prompting import encode_prompts

    plain, negative = encode_prompts(tiny_engine.pipeline, "dog, face portrait", "blurry")
    weighted, _ = encode_prompts(tiny_engine.pipeline, "dog, (face portrait:1.5)", "blurry")
    assert plain.shape == negative.shape == weighted.shape
    assert not (plain == weighted).all()


def test_long_prompts_are_not_truncated_and_stay_padded_together(tiny_engine):
    from transform.prompting import encode_prompts

    prompt, negative = encode_prompts(tiny_engine.pipeline, "dog " * 60, "blurry")
    assert prompt.shape == negative.shape and prompt.shape[1] > 77
