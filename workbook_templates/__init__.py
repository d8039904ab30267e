"""The statutory table definitions (TOML), shipped as package data."""
