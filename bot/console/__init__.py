"""A terminal as a chat platform: one user, one message per line, edits redrawn in place."""
