"""Installation settings: read from ``LIEMCHINH_*`` environment variables, validated once.

Nothing here imports Flask, so the CLI, the benchmarks and the domain layer can load the
same settings the web apps use.
"""

from config.secrets import InstallationSecrets, MissingSecretsError, SecretsError, load_secrets
from config.settings import ConfigError, KdfSettings, Settings, load_settings

__all__ = [
    "ConfigError",
    "InstallationSecrets",
    "KdfSettings",
    "MissingSecretsError",
    "SecretsError",
    "Settings",
    "load_secrets",
    "load_settings",
]
