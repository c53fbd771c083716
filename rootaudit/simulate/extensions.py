"""Installs every moto extension of the simulation (idempotent; works for mock_aws and server mode)."""

from __future__ import annotations

from typing import Any


def install() -> None:
    from rootaudit.simulate import (
        errors,
        ext_athena,
        ext_iam,
        ext_keyindex,
        ext_kms,
        ext_organizations,
        ext_sts,
    )

    _share_model_loader()
    errors.install()
    ext_athena.install()
    ext_keyindex.install()
    ext_organizations.install()
    ext_iam.install()
    ext_sts.install()
    ext_kms.install()
    try:
        from rootaudit.simulate import ext_s3_sqs
    except ImportError:  # added after the IAM/STS core
        return
    ext_s3_sqs.install()


def _share_model_loader() -> None:
    """moto reads each service's model with a loader of its own, and each new loader scans botocore's
    data folder (some 400 services, a stat each) before reading a file: one loader serves them all.
    moto keeps each model once read (get_service_model and get_pagination_model are cached)."""
    from moto.core import loaders, utils

    if getattr(utils._load_service_model, "rootaudit_shared", False):
        return
    loader = loaders.create_loader()

    def load(service_name: str, model_name: str) -> dict[str, Any]:
        return dict(loader.load_service_model(service_name, model_name))

    load.rootaudit_shared = True  # type: ignore[attr-defined]
    utils._load_service_model = load
