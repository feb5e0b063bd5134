"""Reusable pieces of the app's pages (one module each; pages import what they need)."""
