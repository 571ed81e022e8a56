"""Write a seeded CSV of random attributes, one row per vector, for `svdb load --attributes`.

Each row has three columns drawn independently of the vectors, uniformly: `bucket`, an
integer in [0, 1000), so that `bucket < B` lets through B / 1000 of the vectors wherever they
are (the filtered-out ratio of chapter 14's sweep); `color`, one of five words; `price`, a
real in [1, 200) with two decimals. Python's standard library only: no NumPy needed.

Writes FILE with a header row `bucket,color,price` and N rows.
"""

import argparse
import csv
import random
import sys
from pathlib import Path

COLORS = ["red", "green", "blue", "black", "white"]


def parse_args() -> argparse.Namespace:
    """Reads the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, required=True, help="rows: one per base vector")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generator")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be >= 1")
    return args


def main() -> int:
    """Draws the rows and writes the file."""
    args = parse_args()
    rng = random.Random(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["bucket", "color", "price"])
        for _ in range(args.n):
            writer.writerow([rng.randrange(1000), rng.choice(COLORS), f"{rng.uniform(1, 200):.2f}"])
    print(f"wrote {args.n} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
