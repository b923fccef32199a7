"""Thin Snakemake wrapper: check a report's claims on its tables (mdmsched.claims.write_claims)."""

from mdmsched.claims import counts, write_claims
from mdmsched.io import logged

with logged(snakemake.log[0]):
    table = write_claims(
        snakemake.wildcards.report,
        dict(zip(snakemake.params.names, snakemake.input.tables)),
        snakemake.output.csv,
    )
    print(f"claims {snakemake.wildcards.report}:", ", ".join(f"{value} {key}" for key, value in counts(table).items()))
