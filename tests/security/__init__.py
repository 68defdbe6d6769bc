"""Limits and refusals that keep integrator and the sandbox safe from hostile input."""
