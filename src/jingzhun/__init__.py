"""Jingzhun."""
