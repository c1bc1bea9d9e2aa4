"""Video tokenizers: Conv3D VAEs, tubelets, the causal MAGVIT-v2-style one, its GAN training, the rate."""
