"""From a prior to a video: sampling and `generate`, then the learned upsampler."""
