"""Configuration: the one place that reads the environment (Settings.from_env)."""

from config.settings import ConfigError, Settings

__all__ = ["ConfigError", "Settings"]
