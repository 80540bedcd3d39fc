"""Receipts: reading engine, profiles and (later) receipt processing."""
