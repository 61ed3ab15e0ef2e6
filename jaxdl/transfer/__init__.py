"""Transfer learning: frozen-network features, classifiers on them, fine-tuning."""
