"""Measure established vector search libraries the way `svdb eval` measures our engine.

These are the peers our numbers are compared with: FAISS (flat, inverted file, product
quantization, and the two together, IVF-PQ), sqlite-vec (brute force inside SQLite), hnswlib (a graph) and Milvus Lite
(flat, inverted file and graph, behind the Milvus client API). It is a benchmark, not a test:
nothing here passes or fails, it only writes figures.

Every peer is measured like `svdb eval` measures an index: on one thread, one query at a time
in a Python loop, with the wall-clock time of each query taken around the library call alone.
Recall@k is graded against the exact top-k, computed once with a FAISS flat index (squared L2,
or inner product on normalised copies for cosine). The rows go to OUT/results.csv under the
header `svdb eval` writes, so both files can be read by the same scripts; measures that fit no
row (insert rate, file size, training time) go to OUT/peers_extra.csv.

bytes_per_vector is each index's own storage per vector. Where the layout is fixed it is
counted: 4 * dim for a flat index (ids are positions), 4 * dim + 8 for an inverted file (each
inverted list stores the vector and its int64 id), the code size for PQ, the code size + 8 for
IVF-PQ (code and id in each list). Where it is a
database file it is measured, as bytes on disk over the number of vectors: the sqlite-vec file
(vectors, rowids and SQLite's pages) and the Milvus HNSW index file. For the FAISS and hnswlib
graphs it is the graph's bytes alone, as `svdb info` reports ours: the saved index over the
number of vectors, less the 4 * dim of the vector each also stores (left are the links, the
levels and, for hnswlib, the int64 label).
"""

import os

# One thread everywhere, set before numpy, FAISS or any BLAS is loaded.
for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

HEADER = "index,params,k,recall,qps,p50_ms,p95_ms,p99_ms,build_s,bytes_per_vector".split(",")
EXTRA_HEADER = ["peer", "measure", "value", "unit"]
PEERS = ["faiss-flat", "faiss-ivf", "faiss-pq", "faiss-ivfpq", "faiss-hnsw", "sqlite-vec", "hnswlib", "milvus"]
MILVUS_COLLECTION = "peers"
MILVUS_INSERT_BATCH = 10_000


@dataclass
class Data:
    """The vectors, the metric, and the exact answers every peer is graded against."""

    base: np.ndarray
    queries: np.ndarray
    metric: str
    k: int
    # What FAISS indexes: the vectors themselves, or unit copies for cosine.
    faiss_base: np.ndarray
    faiss_queries: np.ndarray
    truth: np.ndarray

    @property
    def dim(self) -> int:
        """Values per vector."""
        return self.base.shape[1]

    @property
    def faiss_metric(self) -> int:
        """FAISS's metric: squared L2, or inner product on unit vectors for cosine."""
        return faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2


@dataclass
class Row:
    """One row of results.csv."""

    index: str
    params: str
    k: int
    recall: float
    qps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    build_s: float
    bytes_per_vector: int

    def cells(self) -> list[str]:
        """The row formatted as `svdb eval` formats it."""
        return [
            self.index,
            self.params,
            str(self.k),
            f"{self.recall:.6f}",
            f"{self.qps:.1f}",
            f"{self.p50_ms:.4f}",
            f"{self.p95_ms:.4f}",
            f"{self.p99_ms:.4f}",
            f"{self.build_s:.4f}",
            str(self.bytes_per_vector),
        ]


class Report:
    """Writes rows and extra measures as they come, so a peer that fails later loses nothing."""

    def __init__(self, out: Path) -> None:
        """Starts both files under OUT with their headers."""
        out.mkdir(parents=True, exist_ok=True)
        self.rows: list[Row] = []
        self.results_path = out / "results.csv"
        self.extra_path = out / "peers_extra.csv"
        for path, header in ((self.results_path, HEADER), (self.extra_path, EXTRA_HEADER)):
            with path.open("w", newline="") as handle:
                csv.writer(handle).writerow(header)

    def row(self, row: Row) -> None:
        """Appends a row to results.csv and says so on stderr."""
        self.rows.append(row)
        with self.results_path.open("a", newline="") as handle:
            csv.writer(handle).writerow(row.cells())
        log(
            f"{row.index} {row.params or '(exact)'}: recall {row.recall:.4f}, "
            f"{row.qps:.1f} q/s, p50 {row.p50_ms:.4f} ms"
        )

    def extra(self, peer: str, measure: str, value: float, unit: str) -> None:
        """Appends a measure to peers_extra.csv and prints it on stderr."""
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        with self.extra_path.open("a", newline="") as handle:
            csv.writer(handle).writerow([peer, measure, text, unit])
        log(f"{peer}: {measure} = {text} {unit}")


def log(message: str) -> None:
    """One line on stderr."""
    print(message, file=sys.stderr, flush=True)


def int_list(text: str) -> list[int]:
    """Parses `1,2,4` into [1, 2, 4]."""
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args() -> argparse.Namespace:
    """Reads the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="directory of base.npy, queries.npy")
    parser.add_argument("--metric", choices=["euclidean", "cosine"], default="euclidean")
    parser.add_argument("--k", type=int, default=10, help="neighbours per query")
    parser.add_argument("--out", type=Path, required=True, help="directory for the CSV files")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated, of " + ",".join(PEERS))
    parser.add_argument("--nlist", type=int, help="inverted file cells (default: round(sqrt(n)))")
    parser.add_argument("--nprobe", type=int_list, default=[1, 2, 4, 8, 16, 32], help="cells probed, each measured")
    parser.add_argument("--m", type=int, default=16, help="PQ: bytes per code (must divide dim)")
    parser.add_argument("--nbits", type=int, default=8, help="PQ: bits per sub-quantizer index")
    parser.add_argument(
        "--rerank",
        type=int_list,
        default=[0],
        help="IVF-PQ: re-ranking depths, each measured at every nprobe (0: none; above 0, IndexRefineFlat)",
    )
    parser.add_argument("--hnsw-m", type=int, default=32, help="HNSW: links per node")
    parser.add_argument("--ef-construction", type=int, default=40, help="HNSW: build-time candidate list")
    parser.add_argument("--ef", type=int_list, default=[16, 32, 64, 128], help="HNSW: search-time candidate lists, each measured")
    args = parser.parse_args()
    args.peers = [peer.strip() for peer in args.peers.split(",") if peer.strip()]
    unknown = sorted(set(args.peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown peers {', '.join(unknown)}; known: {', '.join(PEERS)}")
    if args.k < 1:
        parser.error("--k must be at least 1")
    return args


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Copies of the vectors scaled to length 1 (zero vectors stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)


def load_data(directory: Path, metric: str, k: int) -> Data:
    """Loads base.npy and queries.npy and computes the exact top-k of every query once."""
    base = np.ascontiguousarray(np.load(directory / "base.npy"), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(directory / "queries.npy"), dtype=np.float32)
    if base.ndim != 2 or queries.ndim != 2 or base.shape[1] != queries.shape[1]:
        raise SystemExit(f"error: base {base.shape} and queries {queries.shape} must be 2-D, of one dimension")
    if k > base.shape[0]:
        raise SystemExit(f"error: --k {k} is larger than the {base.shape[0]} base vectors")
    faiss_base, faiss_queries = (
        (unit_rows(base), unit_rows(queries)) if metric == "cosine" else (base, queries)
    )
    started = time.perf_counter()
    exact = faiss.IndexFlat(base.shape[1], faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L2)
    exact.add(faiss_base)
    _, truth = exact.search(faiss_queries, k)
    log(
        f"{base.shape[0]} x {base.shape[1]} base, {queries.shape[0]} queries, {metric}, k = {k}: "
        f"exact top-k in {time.perf_counter() - started:.2f} s"
    )
    return Data(base, queries, metric, k, faiss_base, faiss_queries, truth)


def percentile_nearest_rank(sorted_values: list[float], p: float) -> float:
    """The value at rank ceil(p/100 * n) of ascending values, as `svdb eval` computes it."""
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def evaluate(
    data: Data,
    index: str,
    params: str,
    call: Callable[[int], Any],
    ids_of: Callable[[Any], list[int]],
    build_s: float,
    bytes_per_vector: int,
) -> Row:
    """Runs every query through `call(i)`, timing that call alone, and grades the ids found."""
    latencies = []
    hits = 0
    for i in range(len(data.queries)):
        started = time.perf_counter()
        answer = call(i)
        latencies.append(time.perf_counter() - started)
        truth = set(data.truth[i].tolist())
        hits += len(truth.intersection(ids_of(answer)[: data.k]))
    sorted_ms = sorted(seconds * 1e3 for seconds in latencies)
    return Row(
        index=index,
        params=params,
        k=data.k,
        recall=hits / (data.k * len(latencies)),
        qps=len(latencies) / sum(latencies),
        p50_ms=percentile_nearest_rank(sorted_ms, 50),
        p95_ms=percentile_nearest_rank(sorted_ms, 95),
        p99_ms=percentile_nearest_rank(sorted_ms, 99),
        build_s=build_s,
        bytes_per_vector=bytes_per_vector,
    )


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    """The result of `work()` and the seconds it took."""
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def valid_probes(nprobe: list[int], nlist: int) -> list[int]:
    """The probe counts between 1 and nlist; says which others are left out."""
    kept = [p for p in nprobe if 1 <= p <= nlist]
    if len(kept) < len(nprobe):
        log(f"left out nprobe values outside 1..{nlist}: {sorted(set(nprobe) - set(kept))}")
    return kept


def faiss_search(index: faiss.Index, data: Data) -> tuple[Callable[[int], Any], Callable[[Any], list[int]]]:
    """One-query search on a FAISS index (the query a 1 x dim view) and the ids it returns."""
    rows = [data.faiss_queries[i : i + 1] for i in range(len(data.faiss_queries))]
    return (lambda i: index.search(rows[i], data.k)), (lambda answer: answer[1][0].tolist())


def run_faiss_flat(data: Data, args: argparse.Namespace, report: Report) -> None:
    """FAISS exact search: IndexFlat (L2, or inner product on unit vectors)."""
    index = faiss.IndexFlat(data.dim, data.faiss_metric)
    _, build_s = timed(lambda: index.add(data.faiss_base))
    call, ids_of = faiss_search(index, data)
    report.row(evaluate(data, "faiss-flat", "", call, ids_of, build_s, 4 * data.dim))


def run_faiss_ivf(data: Data, args: argparse.Namespace, report: Report) -> None:
    """FAISS inverted file: IndexIVFFlat over a flat quantizer, trained on the whole base."""
    quantizer = faiss.IndexFlat(data.dim, data.faiss_metric)
    index = faiss.IndexIVFFlat(quantizer, data.dim, args.nlist, data.faiss_metric)
    _, train_s = timed(lambda: index.train(data.faiss_base))
    _, add_s = timed(lambda: index.add(data.faiss_base))
    report.extra("faiss-ivf", f"train (nlist={args.nlist})", train_s, "s")
    report.extra("faiss-ivf", f"add (nlist={args.nlist})", add_s, "s")
    call, ids_of = faiss_search(index, data)
    for nprobe in valid_probes(args.nprobe, args.nlist):
        index.nprobe = nprobe
        params = f"nlist={args.nlist} nprobe={nprobe}"
        report.row(evaluate(data, "faiss-ivf", params, call, ids_of, train_s + add_s, index.code_size + 8))


def run_faiss_pq(data: Data, args: argparse.Namespace, report: Report) -> None:
    """FAISS product quantization: IndexPQ, exhaustive asymmetric distance over the codes."""
    if data.dim % args.m:
        raise ValueError(f"--m {args.m} does not divide the dimension {data.dim}")
    index = faiss.IndexPQ(data.dim, args.m, args.nbits, data.faiss_metric)
    _, train_s = timed(lambda: index.train(data.faiss_base))
    _, add_s = timed(lambda: index.add(data.faiss_base))
    params = f"m={args.m} nbits={args.nbits}"
    report.extra("faiss-pq", f"train ({params})", train_s, "s")
    report.extra("faiss-pq", f"add ({params})", add_s, "s")
    call, ids_of = faiss_search(index, data)
    report.row(evaluate(data, "faiss-pq", params, call, ids_of, train_s + add_s, index.code_size))


def run_faiss_ivfpq(data: Data, args: argparse.Namespace, report: Report) -> None:
    """FAISS IVF-PQ: IndexIVFPQ over a flat quantizer, codes of residuals (by_residual, FAISS's
    default, with its precomputed tables), trained on the whole base, searched at each nprobe,
    without re-ranking and, for each --rerank above 0, through IndexRefineFlat. Its params are
    `svdb eval`'s for `--index ivfpq`, so that the rows pair up."""
    if data.dim % args.m:
        raise ValueError(f"--m {args.m} does not divide the dimension {data.dim}")
    quantizer = faiss.IndexFlat(data.dim, data.faiss_metric)
    index = faiss.IndexIVFPQ(quantizer, data.dim, args.nlist, args.m, args.nbits, data.faiss_metric)
    _, train_s = timed(lambda: index.train(data.faiss_base))
    _, add_s = timed(lambda: index.add(data.faiss_base))
    built = f"nlist={args.nlist} m={args.m} nbits={args.nbits}"
    report.extra("faiss-ivfpq", f"train ({built})", train_s, "s")
    report.extra("faiss-ivfpq", f"add ({built})", add_s, "s")
    report.extra("faiss-ivfpq", f"precomputed tables ({built})", index.use_precomputed_table, "mode")
    call, ids_of = faiss_search(index, data)
    # Re-ranking as `svdb eval --rerank R` does it: the R best by the codes, scored again with the
    # exact vectors (IndexRefineFlat keeps its own copy of them, 4 * dim bytes more per vector).
    refine = faiss.IndexRefineFlat(index, faiss.swig_ptr(data.faiss_base))
    refined, refined_ids_of = faiss_search(refine, data)
    for nprobe in valid_probes(args.nprobe, args.nlist):
        index.nprobe = nprobe
        for rerank in args.rerank:
            if rerank <= 0:
                params = f"{built} nprobe={nprobe}"
                report.row(evaluate(data, "faiss-ivfpq", params, call, ids_of, train_s + add_s, index.code_size + 8))
                continue
            refine.k_factor = rerank / data.k
            params = f"{built} nprobe={nprobe} rerank={rerank}"
            bytes_per_vector = index.code_size + 8 + 4 * data.dim
            report.row(
                evaluate(data, "faiss-ivfpq", params, refined, refined_ids_of, train_s + add_s, bytes_per_vector)
            )


def hnsw_params(args: argparse.Namespace, ef: int) -> str:
    """The params of a graph row, in `svdb eval`'s words, so that rows pair up across tools."""
    return f"m={args.hnsw_m} ef_construction={args.ef_construction} ef_search={ef}"


def graph_bytes_per_vector(file_bytes: int, data: Data) -> int:
    """A saved graph index's bytes per vector, less the 4 * dim of the vector it also stores."""
    return round(file_bytes / len(data.base)) - 4 * data.dim


def run_faiss_hnsw(data: Data, args: argparse.Namespace, report: Report) -> None:
    """FAISS graph: IndexHNSWFlat at the same M and efConstruction, built on one thread."""
    index = faiss.IndexHNSWFlat(data.dim, args.hnsw_m, data.faiss_metric)
    index.hnsw.efConstruction = args.ef_construction
    _, build_s = timed(lambda: index.add(data.faiss_base))
    path = args.out / "faiss-hnsw.index"
    faiss.write_index(index, str(path))
    bytes_per_vector = graph_bytes_per_vector(path.stat().st_size, data)
    remove_path(path)
    call, ids_of = faiss_search(index, data)
    for ef in args.ef:
        index.hnsw.efSearch = ef
        faiss.cvar.hnsw_stats.reset()
        report.row(evaluate(data, "faiss-hnsw", hnsw_params(args, ef), call, ids_of, build_s, bytes_per_vector))
        # The distances its layer-0 search computed per query: the work a beam of ef costs.
        ndis = faiss.cvar.hnsw_stats.ndis / len(data.queries)
        report.extra("faiss-hnsw", f"distances per query (ef_search={ef})", ndis, "distances")


def remove_path(path: Path) -> None:
    """Deletes a file or a directory tree if it exists."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def run_sqlite_vec(data: Data, args: argparse.Namespace, report: Report) -> None:
    """sqlite-vec: a vec0 virtual table in a temporary file, filled in one transaction."""
    import sqlite_vec

    path = args.out / "sqlite-vec.db"
    remove_path(path)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.enable_load_extension(True)
    sqlite_vec.load(connection)
    connection.enable_load_extension(False)
    option = " distance_metric=cosine" if data.metric == "cosine" else ""
    blobs = [(i, row.tobytes()) for i, row in enumerate(data.base)]

    def create() -> None:
        """Opens the transaction and creates the vec0 table."""
        connection.execute("BEGIN")
        connection.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{data.dim}]{option})")

    def insert() -> None:
        """Inserts every row (rowid = row number) and commits."""
        connection.executemany("INSERT INTO v(rowid, embedding) VALUES (?, ?)", blobs)
        connection.execute("COMMIT")

    _, create_s = timed(create)
    _, insert_s = timed(insert)
    size = path.stat().st_size
    report.extra("sqlite-vec", "insert rate (one transaction, with commit)", len(blobs) / insert_s, "rows/s")
    report.extra("sqlite-vec", "file size", size, "bytes")
    report.extra("sqlite-vec", "file size per row", size / len(blobs), "bytes")
    sql = "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance"
    query_blobs = [row.tobytes() for row in data.queries]
    report.row(
        evaluate(
            data,
            "sqlite-vec",
            "",
            lambda i: connection.execute(sql, (query_blobs[i], data.k)).fetchall(),
            lambda answer: [rowid for rowid, _ in answer],
            create_s + insert_s,
            round(size / len(blobs)),
        )
    )
    connection.close()
    remove_path(path)


def run_hnswlib(data: Data, args: argparse.Namespace, report: Report) -> None:
    """hnswlib: an HNSW graph over the vectors, built and searched on one thread."""
    import hnswlib

    index = hnswlib.Index(space="cosine" if data.metric == "cosine" else "l2", dim=data.dim)
    index.set_num_threads(1)

    def build() -> None:
        """Allocates the graph and adds every vector (label = row number)."""
        index.init_index(max_elements=len(data.base), M=args.hnsw_m, ef_construction=args.ef_construction)
        index.add_items(data.base, np.arange(len(data.base)), num_threads=1)

    _, build_s = timed(build)
    bytes_per_vector = graph_bytes_per_vector(index.index_file_size(), data)
    rows = [data.queries[i : i + 1] for i in range(len(data.queries))]
    for ef in args.ef:
        index.set_ef(ef)
        params = hnsw_params(args, ef)
        report.row(
            evaluate(
                data,
                "hnswlib",
                params,
                lambda i: index.knn_query(rows[i], k=data.k),
                lambda answer: answer[0][0].tolist(),
                build_s,
                bytes_per_vector,
            )
        )


def milvus_insert(client, data: Data) -> None:
    """Inserts the base in batches (id = row number) and flushes it to a sealed segment."""
    for start in range(0, len(data.base), MILVUS_INSERT_BATCH):
        batch = data.base[start : start + MILVUS_INSERT_BATCH]
        client.insert(
            MILVUS_COLLECTION,
            [{"id": start + j, "embedding": vector} for j, vector in enumerate(batch)],
        )
    client.flush(MILVUS_COLLECTION)


def milvus_build_index(client, index_type: str, metric: str, params: dict) -> None:
    """Replaces the collection's vector index with a new one and loads the collection.

    pymilvus 3 sends build parameters as top-level key/value pairs (`nlist`, `M`), which
    Milvus Lite 3.2 ignores: it reads only a JSON `params` pair, and silently builds with its
    defaults (nlist 128; M 16, efConstruction 200). Nesting them under `params` sends that pair
    (the older wire format, which a Milvus server reads too); describe_index then confirms
    the index got them.
    """
    client.release_collection(MILVUS_COLLECTION)
    if client.list_indexes(MILVUS_COLLECTION):
        client.drop_index(MILVUS_COLLECTION, "embedding")
    index_params = client.prepare_index_params()
    index_params.add_index(
        field_name="embedding", index_type=index_type, metric_type=metric, params={"params": params}
    )
    client.create_index(MILVUS_COLLECTION, index_params)
    built = client.describe_index(MILVUS_COLLECTION, "embedding").get("params", {})
    if params and built != params:
        raise RuntimeError(f"{index_type} was built with {built}, not the {params} asked for")
    client.load_collection(MILVUS_COLLECTION)


def milvus_index_bytes(path: Path, index_type: str) -> int:
    """Bytes of the index files Milvus Lite wrote for `index_type`."""
    return sum(f.stat().st_size for f in path.rglob(f"*.{index_type.lower()}.idx"))


def run_milvus(data: Data, args: argparse.Namespace, report: Report) -> None:
    """Milvus Lite: FLAT, IVF_FLAT and HNSW indexes on one collection, through MilvusClient.

    Milvus Lite (milvus-lite 3.x) is a pure-Python engine over FAISS; MilvusClient starts it in
    this process behind a gRPC server on 127.0.0.1 when given a local .db path. The same client
    code reaches a Milvus cluster when given its URL instead, e.g. MilvusClient("http://host:19530").
    Each row's build_s is the insert and flush of the base plus creating and loading that index.
    """
    from pymilvus import DataType, MilvusClient

    path = args.out / "milvus.db"
    remove_path(path)
    client = MilvusClient(str(path))
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=data.dim)
    client.create_collection(MILVUS_COLLECTION, schema=schema)
    _, insert_s = timed(lambda: milvus_insert(client, data))
    report.extra("milvus", "insert and flush", insert_s, "s")
    report.extra("milvus", "segments (data files)", len(list(path.rglob("data_*.parquet"))), "files")
    metric = "COSINE" if data.metric == "cosine" else "L2"
    plans = [
        ("milvus-flat", "FLAT", {}, [("", {})]),
        (
            "milvus-ivf",
            "IVF_FLAT",
            {"nlist": args.nlist},
            [(f"nlist={args.nlist} nprobe={p}", {"nprobe": p}) for p in valid_probes(args.nprobe, args.nlist)],
        ),
        (
            "milvus-hnsw",
            "HNSW",
            {"M": args.hnsw_m, "efConstruction": args.ef_construction},
            [(hnsw_params(args, ef), {"ef": ef}) for ef in args.ef],
        ),
    ]
    for name, index_type, build_params, settings in plans:
        _, index_s = timed(lambda: milvus_build_index(client, index_type, metric, build_params))
        report.extra(name, f"create and load {index_type} index", index_s, "s")
        counted = {"FLAT": 4 * data.dim, "IVF_FLAT": 4 * data.dim + 8}
        bytes_per_vector = counted.get(index_type) or round(milvus_index_bytes(path, index_type) / len(data.base))
        for params, search_params in settings:
            report.row(
                evaluate(
                    data,
                    name,
                    params,
                    lambda i: client.search(
                        MILVUS_COLLECTION,
                        data=[data.queries[i]],
                        limit=data.k,
                        anns_field="embedding",
                        search_params={"metric_type": metric, "params": search_params},
                        output_fields=["id"],
                    ),
                    lambda answer: [hit["id"] for hit in answer[0]],
                    insert_s + index_s,
                    bytes_per_vector,
                )
            )
    client.close()


RUNNERS: dict[str, Callable[[Data, argparse.Namespace, Report], None]] = {
    "faiss-flat": run_faiss_flat,
    "faiss-ivf": run_faiss_ivf,
    "faiss-pq": run_faiss_pq,
    "faiss-ivfpq": run_faiss_ivfpq,
    "sqlite-vec": run_sqlite_vec,
    "hnswlib": run_hnswlib,
    "faiss-hnsw": run_faiss_hnsw,
    "milvus": run_milvus,
}


def print_table(rows: list[Row]) -> None:
    """Prints the rows as an aligned table on stdout."""
    table = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(HEADER))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


def main() -> None:
    """Runs each peer asked for; one that fails is reported and skipped."""
    args = parse_args()
    faiss.omp_set_num_threads(1)
    data = load_data(args.data, args.metric, args.k)
    args.nlist = args.nlist or round(math.sqrt(len(data.base)))
    report = Report(args.out)
    failed = []
    for peer in args.peers:
        log(f"--- {peer}")
        try:
            RUNNERS[peer](data, args, report)
        except Exception as error:  # a peer that cannot run must not stop the others
            failed.append(peer)
            log(f"{peer} FAILED, skipped: {type(error).__name__}: {error}")
    print_table(report.rows)
    if failed:
        log(f"failed: {', '.join(failed)}")
    if not report.rows:
        sys.exit("error: no peer produced a row")


if __name__ == "__main__":
    main()
