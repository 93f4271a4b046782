"""Shared code of the course "Superposition and the 1/m law"."""
