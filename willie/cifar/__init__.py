"""The CIFAR-10 warm-ups: the data, a VAE, a VQ-VAE (and its vector quantizer) and a VQ-VAE-2."""
