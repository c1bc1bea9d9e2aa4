"""The ground floor: where data lives, atomic writes, progress, pixels (core); pictures and players (viz)."""
