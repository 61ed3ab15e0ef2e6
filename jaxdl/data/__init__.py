"""Host-side data: decoding, folder datasets, MNIST/MNIST-M, and the input pipeline."""
