"""The film: decoded once into a clip store, cut into clips by shot."""
