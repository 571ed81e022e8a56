"""Write a seeded clustered data set as `.npy` files for `svdb eval` and `run_peers.py`.

The set follows the recipe of the crate's generator (`src/datasets/clustered.rs`): CLUSTERS
centres drawn uniformly in [-1, 1]^DIM, each vector one of those centres (chosen uniformly at
random) plus gaussian noise of standard deviation NOISE on every coordinate. The queries are
drawn the same way, independently of the base, so no query is in the base. NumPy's generator
is not the crate's, so the vectors follow the same distribution without being the same
numbers: give these files to `svdb eval --data ... --queries ...` to compare like with like.

Writes DIR/base.npy (float32, N x DIM) and DIR/queries.npy (float32, QUERIES x DIM).
"""

import argparse
import sys
from pathlib import Path

import numpy as np


def parse_args() -> argparse.Namespace:
    """Reads the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="base vectors")
    parser.add_argument("--dim", type=int, default=128, help="values per vector")
    parser.add_argument("--clusters", type=int, default=100, help="number of centres")
    parser.add_argument("--queries", type=int, default=1000, help="query vectors")
    parser.add_argument("--noise", type=float, default=0.8, help="noise standard deviation")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generator")
    parser.add_argument("--out", type=Path, required=True, help="directory to write")
    args = parser.parse_args()
    if min(args.n, args.dim, args.clusters, args.queries) < 1 or args.noise < 0:
        parser.error("--n, --dim, --clusters and --queries must be >= 1, --noise >= 0")
    return args


def draw(rng: np.random.Generator, centres: np.ndarray, count: int, noise: float) -> np.ndarray:
    """Draws `count` vectors, each a uniformly chosen centre plus N(0, noise^2) per coordinate."""
    assigned = rng.integers(0, centres.shape[0], size=count)
    offsets = rng.normal(0.0, noise, size=(count, centres.shape[1]))
    return (centres[assigned] + offsets).astype(np.float32)


def main() -> None:
    """Generates the base and the queries and writes them."""
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    centres = rng.uniform(-1.0, 1.0, size=(args.clusters, args.dim))
    base = draw(rng, centres, args.n, args.noise)
    queries = draw(rng, centres, args.queries, args.noise)
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "base.npy", base)
    np.save(args.out / "queries.npy", queries)
    print(
        f"wrote {args.out}/base.npy ({base.shape[0]} x {base.shape[1]}) and "
        f"{args.out}/queries.npy ({queries.shape[0]} x {queries.shape[1]}): "
        f"{args.clusters} clusters, noise {args.noise}, seed {args.seed}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
