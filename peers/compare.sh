#!/usr/bin/env bash
# Ours and the peers on the same .npy files, in one run, and the ratios between them.
#
#   peers/compare.sh DATA_DIR OUT_DIR NLIST [M ...]
#
# DATA_DIR holds base.npy and queries.npy (make_clustered.py, embed_sentences.py). Every
# measurement is single-thread, one query at a time, k = 10, euclidean. Our rows come from
# `svdb eval` (chunked layout, streamed from SQLite and preloaded in memory; brute force also in
# the row layout of chapter 5), the peers' from run_peers.py (FAISS flat, IVF and PQ, and
# sqlite-vec; IVF-PQ against FAISS's IndexIVFPQ at the same nlist, M and nprobe, with and
# without re-ranking RERANK candidates; the graph against FAISS's IndexHNSWFlat and hnswlib at
# the same M, efConstruction and efSearch), one after the other, so both meet the same machine.
# ONLY=hnsw runs the graph rows alone, ONLY=ivfpq the inverted files (flat and PQ) alone,
# ONLY=classic all but the graph. REPEAT (default 2) runs the
# whole comparison that many times, ours and theirs in turn, into OUT_DIR/run1, run2, ...: on a
# shared machine one run can be slowed by a neighbour, so ratios.py keeps each row's best run.
# PYTHON (default .venv/bin/python) is the peers' venv; PROBES (default 1,2,4,8,16,32) the
# probe counts of the inverted files.
set -euo pipefail
data=${1:?DATA_DIR}; out=${2:?OUT_DIR}; nlist=${3:?NLIST}; shift 3
ms=("${@:-16}")
python=${PYTHON:-.venv/bin/python}
probes=${PROBES:-1,2,4,8,16,32} # the inverted files' probe counts, each measured
# The graph: FAISS's defaults for M and efConstruction, the beam widths chapter 13 measures.
hnsw_m=${HNSW_M:-32}; ef_construction=${EF_CONSTRUCTION:-40}; efs=${EFS:-16,32,64,128}
only=${ONLY:-all} # all, classic (flat, IVF, PQ, IVF-PQ), ivfpq (IVF and IVF-PQ) or hnsw
rerank=${RERANK:-0,100} # IVF-PQ: re-ranking depths, each at every probe count (0: none)
cargo build --release --bin svdb >&2
svdb=${CARGO_TARGET_DIR:-target}/release/svdb
repeat=${REPEAT:-2}
root=$out
common=(--data "$data/base.npy" --queries "$data/queries.npy" --k 10 --metric euclidean)

run() { # name, then svdb eval arguments
    local name=$1; shift
    "$svdb" eval "${common[@]}" --out "$out/svdb-$name" "$@" >&2
}
for round in $(seq 1 "$repeat"); do
    out=$root/run$round
    mkdir -p "$out"
    if [ "$only" = ivfpq ]; then
        run ivf-preloaded --index ivf --nlist "$nlist" --nprobe "$probes" --mode preloaded
        "$python" peers/run_peers.py --data "$data" --nlist "$nlist" --nprobe "$probes" \
            --peers faiss-ivf --out "$out/peers" >&2
    fi
    if [ "$only" = ivfpq ] || [ "$only" = all ] || [ "$only" = classic ]; then
        for m in "${ms[@]}"; do
            run "ivfpq$m-preloaded" --index ivfpq --nlist "$nlist" --m "$m" --nbits 8 \
                --nprobe "$probes" --rerank "$rerank" --mode preloaded
            "$python" peers/run_peers.py --data "$data" --nlist "$nlist" --nprobe "$probes" --m "$m" \
                --rerank "$rerank" --peers faiss-ivfpq --out "$out/peers-ivfpq$m" >&2
        done
    fi
    if [ "$only" = all ] || [ "$only" = classic ]; then
        run flat-rows --index flat --layout rows
        run flat-streamed --index flat
        run flat-preloaded --index flat --mode preloaded
        run ivf-streamed --index ivf --nlist "$nlist" --nprobe "$probes"
        run ivf-preloaded --index ivf --nlist "$nlist" --nprobe "$probes" --mode preloaded
        for m in "${ms[@]}"; do
            run "pq$m-streamed" --index pq --m "$m" --nbits 8
            run "pq$m-preloaded" --index pq --m "$m" --nbits 8 --mode preloaded
        done
        "$python" peers/run_peers.py --data "$data" --nlist "$nlist" --nprobe "$probes" \
            --m "${ms[0]}" --peers faiss-flat,faiss-ivf,faiss-pq,sqlite-vec --out "$out/peers" >&2
        for m in "${ms[@]:1}"; do
            "$python" peers/run_peers.py --data "$data" --m "$m" --peers faiss-pq --out "$out/peers-pq$m" >&2
        done
    fi
    if [ "$only" = all ] || [ "$only" = hnsw ]; then
        run hnsw --index hnsw --hnsw-m "$hnsw_m" --ef-construction "$ef_construction" --ef "$efs"
        "$python" peers/run_peers.py --data "$data" --hnsw-m "$hnsw_m" --ef-construction "$ef_construction" \
            --ef "$efs" --peers faiss-hnsw,hnswlib --out "$out/peers-hnsw" >&2
    fi
# One file of every row, under the one header.
first=1
for csv in "$out"/svdb-*/results.csv "$out"/peers*/results.csv; do
    if [ $first = 1 ]; then cat "$csv"; first=0; else tail -n +2 "$csv"; fi
done > "$out/all.csv"
done
"$python" peers/ratios.py "$root"/run*/all.csv
