"""Learned masked diffusion models: corpora, model, training, the model as an oracle,
the pipeline from a config entry to tables (torch code; the estimators it uses are in
:mod:`mdmsched.estimation`)."""
