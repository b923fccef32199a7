"""Shipped text corpora: deterministic text, expected alphabets, encoding, chunking and splitting."""

import hashlib
import time
import zipfile

import numpy as np
import pytest

from mdmsched.mdm import corpora


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_shakespeare_is_deterministic_with_tiny_shakespeare_alphabet():
    text = corpora.shakespeare_text()
    corpora.shakespeare_text.cache_clear()
    again = corpora.shakespeare_text()
    assert again is not text and _digest(again) == _digest(text)
    assert 4_600_000 < len(text) < 5_000_000
    vocabulary = corpora.build_vocabulary(text)
    assert len(vocabulary) == 75  # ~74 expected: letters, digits, punctuation, space, newline
    assert len(corpora.build_vocabulary(corpora.shakespeare_text(lowercase=True))) == 49
    assert set("_*#[]\\").isdisjoint(vocabulary)  # markup and stage directions are gone
    assert text.startswith("THESEUS:\nNow, fair Hippolyta, our nuptial hour\n")
    assert "Enter" not in text.split("\n\n")[0]


def test_text8_mini_has_exactly_text8_alphabet():
    text = corpora.text8_mini_text()
    assert 2_900_000 < len(text) < 3_200_000
    assert corpora.build_vocabulary(text) == " abcdefghijklmnopqrstuvwxyz"
    assert "  " not in text and text == text.strip()
    assert text.startswith("anarchism is a political philosophy")
    assert _digest(corpora.wikifil(_wiki_page("Nine 9 [[a|b]]"))) == _digest(
        corpora.wikifil(_wiki_page("Nine 9 [[a|b]]")))


def _wiki_page(body: str, title: str = "T") -> str:
    return (f"<page><title>{title}</title><revision><text xml:space=\"preserve\">{body}</text>"
            "</revision></page>\n")


def test_wikifil_rules():
    body = ("The '''Year''' 1984 &amp; [[Target page|shown text]] {{infobox|x=1}} "
            "[http://example.com link text] [[fr:Ignored]] [[Category:Novels]] "
            "&lt;ref&gt;cite&lt;/ref&gt;end")
    out = corpora.wikifil(_wiki_page(body))
    assert out == (" the year one nine eight four shown text link text novels end")
    assert corpora.wikifil(_wiki_page("#REDIRECT [[Elsewhere]]")) == ""


def test_encode_decode_round_trip_and_errors():
    vocabulary = corpora.build_vocabulary("hello world")
    ids = corpora.encode("hello", vocabulary)
    assert ids.dtype == np.int64 and corpora.decode(ids, vocabulary) == "hello"
    assert corpora.decode(ids.reshape(1, -1), vocabulary) == ["hello"]
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        corpora.encode("hez", vocabulary)
    with pytest.raises(ValueError, match="ids must lie"):
        corpora.decode([99], vocabulary)


def test_chunking_and_block_split_are_deterministic_and_disjoint():
    sequences = corpora.chunk_sequences(np.arange(1000), 10)  # 100 sequences, the tail is dropped
    assert sequences.shape == (100, 10)
    train, val = corpora.train_validation_split(sequences, 0.2, block_sequences=5, seed=3)
    train2, val2 = corpora.train_validation_split(sequences, 0.2, block_sequences=5, seed=3)
    assert np.array_equal(train, train2) and np.array_equal(val, val2)
    assert len(val) == 20 and len(train) == 80
    assert set(train[:, 0]).isdisjoint(val[:, 0])
    blocks, counts = np.unique(val[:, 0] // 50, return_counts=True)  # whole blocks of 5 rows
    assert len(blocks) == 4 and np.all(counts == 5)
    _, other = corpora.train_validation_split(sequences, 0.2, block_sequences=5, seed=4)
    assert not np.array_equal(val, other)
    with pytest.raises(ValueError, match="validation_fraction"):
        corpora.train_validation_split(sequences, 1.5)
    with pytest.raises(ValueError, match="shorter than one sequence"):
        corpora.chunk_sequences(np.arange(5), 10)


def test_load_corpus_shapes_and_vocabulary():
    corpus = corpora.load_corpus("text8-mini", n=128, max_chars=128 * 640, block_sequences=32)
    assert corpus.q == 27 and corpus.n == 128
    assert len(corpus.train) + len(corpus.validation) == 640
    assert corpus.decode(corpus.train[0]).startswith("anarchism")
    with pytest.raises(ValueError, match="unknown corpus 'nope'"):
        corpora.load_corpus("nope")


def test_load_text8_fails_fast_offline_and_reads_local_zip(tmp_path):
    with pytest.raises(RuntimeError, match="text8 file not found"):
        corpora.load_text8(tmp_path / "text8")
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="could not download text8"):
        corpora.load_text8("http://127.0.0.1:9/text8.zip", timeout=2.0)
    assert time.perf_counter() - started < 10
    archive = tmp_path / "text8.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("text8", " some text eight")
    assert corpora.load_text8(archive, expected_chars=None) == "some text eight"
