"""Judges: distortion and code use (metrics), H.264 and the two-sample test (judges), patch nearest neighbours."""
