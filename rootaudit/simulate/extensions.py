"""Installs every moto extension of the simulation (idempotent; works for mock_aws and server mode)."""

from __future__ import annotations


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
