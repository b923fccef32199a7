"""Thin Snakemake wrapper: execute a notebook template with papermill and render it to HTML."""

from mdmsched.reports import render_notebook

render_notebook(
    snakemake.input.notebook,
    snakemake.output.notebook,
    snakemake.output.html,
    parameters=dict(snakemake.params.parameters),
    log_path=snakemake.log[0],
    expected_figures=list(snakemake.output.pdfs) + list(snakemake.output.pngs),
)
