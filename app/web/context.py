"""Typed access to what an app was built with: settings, secrets, the blob store."""

from __future__ import annotations

from flask import Flask, current_app

from app.storage import BlobStore
from config import InstallationSecrets, Settings

SETTINGS_KEY = "LIEMCHINH_SETTINGS"
SECRETS_KEY = "LIEMCHINH_SECRETS"
_STORE = "liemchinh.blob_store"


def settings() -> Settings:
    value: Settings = current_app.config[SETTINGS_KEY]
    return value


def installation_secrets() -> InstallationSecrets:
    value: InstallationSecrets | None = current_app.config[SECRETS_KEY]
    if value is None:
        raise RuntimeError("the installation has no secrets: run init")
    return value


def init_blob_store(app: Flask, store: BlobStore) -> None:
    app.extensions[_STORE] = store


def blob_store() -> BlobStore:
    store: BlobStore = current_app.extensions[_STORE]
    return store
