"""What a user runs: the sample gallery, the training recipes by name, the `willie` command."""
