"""Priors over video tokens: the GPT with ALiBi and a sliding window, and its MaskGIT twin."""
