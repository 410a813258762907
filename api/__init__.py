"""The organization-facing JSON API."""
