"""Training: the Trainer loop with exact resume (loop) and the weights registry (weights)."""
