"""Training machinery shared by the chapters."""
