"""Merchant signup, application steps, BR documents, receipt samples and admin review."""
