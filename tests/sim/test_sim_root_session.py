"""Root sessions: the audit task reads the member's root state, is denied everything else; the delete
and create-password tasks really change it; every call is recorded in the member account."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from rootaudit.simulate.events import EVENT_LOG, RootSessionAction
from rootaudit.simulate.sessions import error_of, root_session
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX

DELETE_TASK = TASK_POLICY_PREFIX + "IAMDeleteRootUserCredentials"
CREATE_PASSWORD_TASK = TASK_POLICY_PREFIX + "IAMCreateRootUserPassword"


def test_audit_session_reads_a_clean_account(fresh_sim):
    member = fresh_sim.scenario.by_kind("delegated_admin").account_id
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, member))
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile()
    assert error_of(exc) == ("NoSuchEntity", 404)
    assert iam.list_access_keys()["AccessKeyMetadata"] == []
    assert iam.list_mfa_devices()["MFADevices"] == []
    assert iam.list_signing_certificates()["Certificates"] == []
    summary = iam.get_account_summary()["SummaryMap"]
    assert {k: summary[k] for k in ("AccountMFAEnabled", "AccountAccessKeysPresent",
                                    "AccountSigningCertificatesPresent", "AccountPasswordPresent")} == {
        "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0, "AccountSigningCertificatesPresent": 0,
        "AccountPasswordPresent": 0}
    user = iam.get_user()["User"]
    assert user["Arn"] == f"arn:aws:iam::{member}:root" and "PasswordLastUsed" not in user


def test_audit_session_reads_credentials_as_declared(fresh_sim):
    spec = fresh_sim.scenario.by_kind("active_root_key")
    key = spec.root.access_keys[0]
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, spec.account_id))
    (listed,) = iam.list_access_keys()["AccessKeyMetadata"]
    assert (listed["AccessKeyId"], listed["Status"]) == (key.key_id, "Active")
    assert listed["CreateDate"] == key.created
    used = iam.get_access_key_last_used(AccessKeyId=key.key_id)["AccessKeyLastUsed"]
    assert (used["LastUsedDate"], used["Region"], used["ServiceName"]) == (
        key.last_used, key.last_used_region, key.last_used_service)

    virtual = fresh_sim.scenario.by_kind("invited_password_virtual_mfa")
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, virtual.account_id))
    assert iam.get_login_profile()["LoginProfile"]["CreateDate"] == virtual.root.password_created
    assert iam.get_user()["User"]["PasswordLastUsed"] == virtual.root.password_last_used
    (mfa,) = iam.list_mfa_devices()["MFADevices"]
    assert mfa["SerialNumber"] == f"arn:aws:iam::{virtual.account_id}:mfa/root-account-mfa-device"

    certified = fresh_sim.scenario.by_kind("signing_certificate")
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, certified.account_id))
    (cert,) = iam.list_signing_certificates()["Certificates"]
    assert cert["CertificateId"] == certified.root.certificates[0].certificate_id
    assert cert["Status"] == "Active"


def test_audit_session_is_denied_a_delete_and_nothing_changes(fresh_sim):
    spec = fresh_sim.scenario.by_kind("active_root_key")
    key_id = spec.root.access_keys[0].key_id
    session = root_session(fresh_sim, spec.account_id)
    iam = fresh_sim.client("iam", session=session)
    with pytest.raises(ClientError) as exc:
        iam.delete_access_key(AccessKeyId=key_id)
    assert error_of(exc) == ("AccessDenied", 403)
    assert fresh_sim.root_state(spec.account_id).key(key_id) is not None
    live_key = session.get_credentials().access_key
    denied = [e for e in EVENT_LOG.events() if isinstance(e, RootSessionAction)
              and e.access_key_id == live_key and e.event_name == "DeleteAccessKey"]
    assert len(denied) == 1 and denied[0].error_code == "AccessDenied"
    assert denied[0].account_id == spec.account_id and denied[0].region == "us-east-1"


@pytest.mark.parametrize("call", ["generate_credential_report", "get_credential_report",
                                  "list_virtual_mfa_devices", "list_users"])
def test_audit_session_is_denied_classic_reads(fresh_sim, call):
    member = fresh_sim.scenario.by_kind("invited_password_virtual_mfa").account_id
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, member))
    with pytest.raises(ClientError) as exc:
        getattr(iam, call)()
    assert error_of(exc) == ("AccessDenied", 403)


def test_naming_a_user_is_outside_the_task(fresh_sim):
    member = fresh_sim.scenario.by_kind("invited_password_virtual_mfa").account_id
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, member))
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile(UserName="alice")
    assert error_of(exc) == ("AccessDenied", 403)


def test_delete_session_removes_every_root_credential(fresh_sim):
    scenario = fresh_sim.scenario
    for kind in ("active_root_key", "invited_password_virtual_mfa", "signing_certificate",
                 "password_hardware_mfa"):
        spec = scenario.by_kind(kind)
        iam = fresh_sim.client("iam", session=root_session(fresh_sim, spec.account_id, DELETE_TASK))
        for key in iam.list_access_keys()["AccessKeyMetadata"]:
            iam.delete_access_key(AccessKeyId=key["AccessKeyId"])
        for cert in iam.list_signing_certificates()["Certificates"]:
            iam.delete_signing_certificate(CertificateId=cert["CertificateId"])
        for mfa in iam.list_mfa_devices()["MFADevices"]:
            iam.deactivate_mfa_device(SerialNumber=mfa["SerialNumber"])
        try:
            iam.get_login_profile()
            iam.delete_login_profile()
        except ClientError as exc:
            assert error_of(exc) == ("NoSuchEntity", 404)
        state = fresh_sim.root_state(spec.account_id)
        assert not state.has_credentials, kind
        with pytest.raises(ClientError) as exc:
            iam.get_account_summary()  # not in IAMDeleteRootUserCredentials
        assert error_of(exc) == ("AccessDenied", 403)
        audit = fresh_sim.client("iam", session=root_session(fresh_sim, spec.account_id))
        assert audit.list_access_keys()["AccessKeyMetadata"] == []
        assert audit.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0
    names = {e.event_name for e in EVENT_LOG.events()
             if isinstance(e, RootSessionAction) and not e.error_code}
    deletes = {"DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice", "DeleteLoginProfile"}
    assert deletes <= names


def test_deleting_a_key_that_is_not_roots_is_no_such_entity(fresh_sim):
    member = fresh_sim.scenario.by_kind("active_root_key").account_id
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, member, DELETE_TASK))
    with pytest.raises(ClientError) as exc:
        iam.delete_access_key(AccessKeyId="AKIAIOSFODNN7EXAMPLE")
    assert error_of(exc) == ("NoSuchEntity", 404)


def test_create_password_task_creates_a_login_profile(fresh_sim):
    member = fresh_sim.scenario.by_kind("delegated_admin").account_id
    iam = fresh_sim.client("iam", session=root_session(fresh_sim, member, CREATE_PASSWORD_TASK))
    # In an AssumeRoot session the password is omitted (IAM API reference, CreateLoginProfile): the root
    # user sets it through password recovery. Passing one is refused, and the secret is never recorded.
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(Password="Correct-Horse-Battery-9")
    assert error_of(exc) == ("ValidationError", 400)
    assert not fresh_sim.root_state(member).password
    assert "Correct-Horse" not in repr(EVENT_LOG.events())
    iam.create_login_profile()
    created = [e for e in EVENT_LOG.events() if isinstance(e, RootSessionAction)
               and e.event_name == "CreateLoginProfile" and e.account_id == member and not e.error_code]
    assert created
    assert iam.get_login_profile()["LoginProfile"]
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile()
    assert error_of(exc) == ("EntityAlreadyExists", 409)
    with pytest.raises(ClientError) as exc:
        iam.delete_login_profile()
    assert error_of(exc) == ("AccessDenied", 403)
    assert fresh_sim.root_state(member).password


def test_root_session_identity_is_the_member_root(fresh_sim):
    member = fresh_sim.scenario.by_kind("active_root_key").account_id
    ident = fresh_sim.client("sts", session=root_session(fresh_sim, member)).get_caller_identity()
    assert (ident["Account"], ident["Arn"]) == (member, f"arn:aws:iam::{member}:root")


def test_unlock_tasks_allow_only_their_actions(fresh_sim):
    member = fresh_sim.scenario.by_kind("password_no_mfa").account_id
    s3_root = root_session(fresh_sim, member, TASK_POLICY_PREFIX + "S3UnlockBucketPolicy")
    s3 = fresh_sim.client("s3", session=s3_root)
    assert s3.list_buckets()["Buckets"] == []
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket="not-allowed")
    assert error_of(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        fresh_sim.client("iam", session=s3_root).list_access_keys()
    assert error_of(exc) == ("AccessDenied", 403)
    sqs = fresh_sim.client("sqs", session=root_session(fresh_sim, member,
                                                       TASK_POLICY_PREFIX + "SQSUnlockQueuePolicy"))
    assert "QueueUrls" not in sqs.list_queues()
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName="not-allowed")
    assert error_of(exc) == ("AccessDenied", 403)
    sources = {(e.event_source, e.event_name, e.error_code) for e in EVENT_LOG.events()
               if isinstance(e, RootSessionAction)}
    assert ("s3.amazonaws.com", "ListAllMyBuckets", "") in sources
    assert ("s3.amazonaws.com", "CreateBucket", "AccessDenied") in sources
    assert ("sqs.amazonaws.com", "ListQueues", "") in sources
    assert ("sqs.amazonaws.com", "CreateQueue", "AccessDenied") in sources
