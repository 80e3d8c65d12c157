"""A CLIPTokenizer made locally (no download) for the random-weight pipelines."""

import json
import string

from transformers import CLIPTokenizer

# CLIP's start and end tokens.
START_TOKEN, END_TOKEN = "<|startoftext|>", "<|endoftext|>"


def local_clip_tokenizer(directory, vocab_size=None, words=()):
    """A CLIPTokenizer written to and read from `directory`: single characters, plus `words` as whole tokens.

    With vocab_size, unused filler tokens pad the vocabulary to that size and the start and end tokens take
    its last two ids, as in CLIP's (49406, 49407).
    """
    characters = [c for c in string.printable if not c.isspace()]
    tokens = characters + [f"{c}</w>" for c in characters]
    merges = []
    for word in words:
        # Left-to-right merges spell the word out and join it back into one token, "golden</w>".
        pieces = [*word[:-1], f"{word[-1]}</w>"]
        while len(pieces) > 1:
            merges.append(f"{pieces[0]} {pieces[1]}")
            pieces = [pieces[0] + pieces[1], *pieces[2:]]
            if pieces[0] not in tokens:
                tokens.append(pieces[0])
    if vocab_size:
        tokens += [f"<|unused{i}|>" for i in range(vocab_size - 2 - len(tokens))]
    tokens += [START_TOKEN, END_TOKEN]
    vocab_path, merges_path = directory / "vocab.json", directory / "merges.txt"
    vocab_path.write_text(json.dumps({token: i for i, token in enumerate(tokens)}), encoding="utf-8")
    merges_path.write_text("\n".join(["#version: 0.2", *dict.fromkeys(merges)]) + "\n", encoding="utf-8")
    return CLIPTokenizer(
        str(vocab_path),
        str(merges_path),
        model_max_length=77,
        bos_token=START_TOKEN,
        eos_token=END_TOKEN,
        unk_token=END_TOKEN,
        pad_token=END_TOKEN,
    )
