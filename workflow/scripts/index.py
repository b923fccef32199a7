"""Thin Snakemake wrapper: write the replication index (mdmsched.index.build_index)."""

from mdmsched.io import logged
from mdmsched.index import build_index

with logged(snakemake.log[0]):
    counts = build_index(
        dict(snakemake.params.reports),
        benchmarks_dir=snakemake.params.benchmarks_dir,
        out_md=snakemake.output.md,
        out_html=snakemake.output.html,
    )
    print("index:", ", ".join(f"{value} {key}" for key, value in counts.items()))
