"""Shared by several areas' pages: staff sign-in, display formatting, form-field reading."""
