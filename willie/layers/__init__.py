"""Building blocks: 2-D/3-D conv stacks, FSQ, attention (ALiBi, sliding window, FlashAttention 2)."""
