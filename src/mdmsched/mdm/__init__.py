"""Learned masked diffusion models: corpora, model, training, model oracle, curve estimates."""
