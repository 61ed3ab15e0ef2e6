"""Scores of generated samples (classifier Inception Score, Frechet distance, label accuracy)."""
