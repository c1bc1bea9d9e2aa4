"""The film as token streams, encoded once by a tokenizer."""
