"""SimulatedOrganization: moto plus the project's extensions, seeded from a Scenario.

    with SimulatedOrganization(build_scenario(), mode="server") as sim:
        with sim.environ():          # AWS_ENDPOINT_URL etc. point at the simulation
            ...                      # any boto3 code, or the AWS CLI in a subprocess
        sim.session()                # a boto3.Session for the management caller
        sim.faults.throttle("iam", share=0.3)

moto keeps its state per process, so one SimulatedOrganization may be open at a time in a process.
Server mode serves moto on 127.0.0.1 (a free port) behind the fault middleware; in-process mode uses
`mock_aws`. Either way the scenario is seeded through boto3 calls, except what no API can express:
PENDING_CLOSURE, INVITED, join dates and the management account's name are set on moto's models, and
the organization trail's log and digest files are stored as CloudTrail delivers them (`trail`).
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC
from types import ModuleType, TracebackType
from typing import Any, Literal

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from rootaudit.simulate import events, ext_keyindex, validation
from rootaudit.simulate.ext_organizations import ACCOUNT_PRINCIPAL, IAM_PRINCIPAL, planned_account_ids
from rootaudit.simulate.extensions import install
from rootaudit.simulate.faults import FaultPlan
from rootaudit.simulate.registry import REGISTRY
from rootaudit.simulate.scenario import AccountSpec, Scenario

# Simulated, non-secret credentials: with them a caller acts as an IAM principal of the management account.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
             "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_STS")
_active_lock = threading.Lock()
_active: SimulatedOrganization | None = None


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def _trail_module() -> ModuleType | None:
    # rootaudit.simulate.trail is provided by the cloudtrail branch (organization trail, LookupEvents,
    # monitoring). Without it the simulation still serves organizations, IAM and STS.
    try:
        return importlib.import_module("rootaudit.simulate.trail")
    except ModuleNotFoundError as exc:
        if exc.name != "rootaudit.simulate.trail":
            raise
        return None


class SimulatedOrganization:
    def __init__(self, scenario: Scenario, mode: Literal["server", "inprocess"] = "server",
                 host: str = "127.0.0.1", port: int = 0) -> None:
        if mode not in ("server", "inprocess"):
            raise ValueError(f"mode must be 'server' or 'inprocess', not {mode!r}")
        self.scenario = scenario
        self.mode = mode
        self.faults = FaultPlan(http=mode == "server")
        self._host, self._port = host, port
        self._server: Any = None
        self._connections: Any = None
        self._thread: threading.Thread | None = None
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self.endpoint_url: str | None = None
        self.seed_seconds: float = 0.0

    # --- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> SimulatedOrganization:
        global _active
        with _active_lock:
            if _active is not None:
                raise RuntimeError("a SimulatedOrganization is already open in this process "
                                   "(moto keeps one state per process)")
            _active = self
        try:
            self._start()
            import time

            started = time.perf_counter()
            self._seed()
            self.seed_seconds = time.perf_counter() - started
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        global _active
        try:
            if self._server is not None:
                self._server.shutdown()
                self._connections.close_all()  # the threads still waiting on keep-alive connections
                self._server.server_close()
                self._server = None
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            self._reset_moto()
        finally:
            REGISTRY.reset()
            events.EVENT_LOG.clear()
            with _active_lock:
                _active = None

    def _start(self) -> None:
        install()
        trail = _trail_module()
        if trail is not None and hasattr(trail, "install"):
            trail.install()
        validation.install()  # last: AWS checks a request's shape before anything else
        REGISTRY.reset()
        events.EVENT_LOG.clear()
        ext_keyindex.forget()
        if self.mode == "inprocess":
            from moto import mock_aws

            with self._fixed_credentials():
                self._mock = mock_aws()
                self._mock.start()
            return
        from moto.moto_server.werkzeug_app import create_backend_app
        from werkzeug.serving import make_server

        from rootaudit.simulate.dispatch import HostCachingDispatcher
        from rootaudit.simulate.keepalive import OpenConnections, keepalive_handler

        self._reset_moto()
        app = self.faults.middleware(HostCachingDispatcher(create_backend_app))
        self._connections = OpenConnections()
        self._server = make_server(self._host, self._port, app, threaded=True,
                                   request_handler=keepalive_handler(self._connections))
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        # A short poll interval makes shutdown quick (tests open and close many simulations).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="rootaudit-sim", daemon=True)
        self._thread.start()

    @staticmethod
    def _reset_moto() -> None:
        # The same reset as moto server's POST /moto-api/reset: every backend, every account.
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()

    @contextmanager
    def _fixed_credentials(self) -> Iterator[None]:
        saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        os.environ["AWS_ACCESS_KEY_ID"] = ACCESS_KEY_ID
        os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET_ACCESS_KEY
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    # --- what callers use -------------------------------------------------------------------------

    @contextmanager
    def environ(self) -> Iterator[dict[str, str]]:
        """Sets AWS_ENDPOINT_URL (server mode), the simulated credentials and region, unsets AWS_PROFILE
        (and any session token), and restores everything on exit."""
        saved = {k: os.environ.get(k) for k in _ENV_KEYS}
        try:
            for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"):
                os.environ.pop(k, None)
            values = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                      "AWS_DEFAULT_REGION": self.scenario.region}
            if self.endpoint_url:
                values["AWS_ENDPOINT_URL"] = self.endpoint_url
            os.environ.update(values)
            yield values
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def session(self, access_key_id: str = ACCESS_KEY_ID, secret_access_key: str = SECRET_ACCESS_KEY,
                session_token: str | None = None) -> boto3.Session:
        """A boto3 session for the management caller (or the credentials given)."""
        # Sessions share one model loader: loading service models anew for each session costs ~0.1 s.
        core = botocore.session.Session()
        core.register_component("data_loader", _shared_loader())
        return boto3.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
                             aws_session_token=session_token, region_name=self.scenario.region,
                             botocore_session=core)

    def client(self, service: str, region: str | None = None, session: boto3.Session | None = None,
               **kwargs: Any) -> Any:
        """A client of `session` (default: the management caller) aimed at the simulation."""
        session = session or self.session()
        if self.endpoint_url:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
        return session.client(service, region_name=region or self.scenario.region, **kwargs)

    def create_signing_key(self, key_spec: str = "ECC_NIST_P256", region: str | None = None) -> str:
        """An asymmetric KMS signing key in the management account, as an organization creates one for
        `--sign-with kms:…`; its ARN."""
        kms = self.client("kms", region=region)
        created = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec=key_spec,
                                 Description="signs each rootaudit snapshot at collection")
        return str(created["KeyMetadata"]["Arn"])

    def root_state(self, account_id: str) -> Any:
        """The live root state of an account (changed by root-session delete calls)."""
        with REGISTRY.lock:
            return REGISTRY.root_state(account_id).copy()

    def issued_secrets(self) -> set[str]:
        """Every secret access key and session token the simulation has handed out through AssumeRoot
        and AssumeRole so far: what must never appear in a pack, a snapshot or a log."""
        from moto.sts.models import sts_backends

        with REGISTRY.lock:
            secrets = {v for s in REGISTRY.root_sessions.values()
                       for v in (s.secret_access_key, s.session_token) if v}
        for account_id in list(sts_backends.keys()):
            for backend in sts_backends[account_id].values():
                for role in backend.assumed_roles:
                    secrets.update(v for v in (role.secret_access_key, role.session_token) if v)
        return secrets

    # --- seeding ----------------------------------------------------------------------------------

    def _seed(self) -> None:
        s = self.scenario
        config = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=16)
        orgs = self.client("organizations", config=config)
        # moto draws ids (organization, root, OUs, …) from its own random source: seeding it makes the
        # organization id, and so the pack's name, the same for the same scenario.
        from moto.moto_api._internal import mock_random

        mock_random.seed(s.seed)
        orgs.create_organization(FeatureSet="ALL")
        root_id = orgs.list_roots()["Roots"][0]["Id"]
        ou_ids = {"Root": root_id}
        for path in s.ou_paths:  # parents come before children: the paths are sorted
            parent, _, name = path.rpartition("/")
            ou_ids[path] = orgs.create_organizational_unit(ParentId=ou_ids[parent], Name=name)[
                "OrganizationalUnit"]["Id"]
        members = s.members()
        with planned_account_ids(a.account_id for a in members):
            for spec in members:
                status = orgs.create_account(AccountName=spec.name, Email=spec.email)["CreateAccountStatus"]
                if status["AccountId"] != spec.account_id:
                    raise RuntimeError(f"moto gave account id {status['AccountId']}, "
                                       f"planned {spec.account_id}")
        self._place_accounts(orgs, members, root_id, ou_ids)
        self._set_account_facts()
        orgs.enable_aws_service_access(ServicePrincipal=ACCOUNT_PRINCIPAL)
        if s.iam_trusted_access:
            orgs.enable_aws_service_access(ServicePrincipal=IAM_PRINCIPAL)
        if s.delegated_admin_account_id:
            orgs.register_delegated_administrator(AccountId=s.delegated_admin_account_id,
                                                  ServicePrincipal=IAM_PRINCIPAL)
        iam = self.client("iam", config=config)
        if s.iam_trusted_access:
            if "RootCredentialsManagement" in s.features:
                iam.enable_organizations_root_credentials_management()
            if "RootSessions" in s.features:
                iam.enable_organizations_root_sessions()
        self._seed_contacts(config)
        self._seed_root_states()
        for event in s.history:
            events.EVENT_LOG.add(event)
        trail = _trail_module()
        if trail is not None and hasattr(trail, "seed"):
            trail.seed(self)

    def _parallel(self, fn: Any, items: list[Any]) -> None:
        workers = 8 if self.mode == "server" and len(items) > 20 else 1
        if workers == 1:
            for item in items:
                fn(item)
            return
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fn, items))

    def _place_accounts(self, orgs: Any, members: list[AccountSpec], root_id: str,
                        ou_ids: dict[str, str]) -> None:
        moves = [a for a in members if a.ou_path != "Root"]
        self._parallel(lambda a: orgs.move_account(AccountId=a.account_id, SourceParentId=root_id,
                                                   DestinationParentId=ou_ids[a.ou_path]), moves)
        for spec in members:
            if spec.state in ("SUSPENDED", "PENDING_CLOSURE", "CLOSED"):
                orgs.close_account(AccountId=spec.account_id)  # moto: straight to SUSPENDED

    def _set_account_facts(self) -> None:
        """What no API sets: PENDING_CLOSURE, CLOSED, INVITED, join dates, the management account's name."""
        from moto.organizations.models import organizations_backends

        backend = organizations_backends[self.scenario.management_account_id]["aws"]
        for account in backend.accounts:
            spec = self.scenario.accounts.get(account.id)
            if spec is None:
                continue
            account.name, account.email = spec.name, spec.email
            account.create_time = spec.joined_at.astimezone(UTC).replace(tzinfo=None)  # moto: naive UTC
            account.joined_method = spec.joined_method
            if spec.state in ("PENDING_CLOSURE", "CLOSED"):
                account.state = account.status = spec.state

    def _seed_contacts(self, config: Config) -> None:
        account = self.client("account", config=config)
        mgmt = self.scenario.management_account_id

        def put(spec: AccountSpec) -> None:
            extra = {} if spec.account_id == mgmt else {"AccountId": spec.account_id}
            account.put_alternate_contact(
                AlternateContactType="SECURITY", EmailAddress=f"security+{spec.name}@example.com",
                Name="Security Operations", PhoneNumber="+1-555-0100", Title="Security contact", **extra)

        self._parallel(put, [a for a in self.scenario.accounts.values() if a.security_contact])

    def reset_faults(self) -> None:
        """Clear every fault a test added, keeping the refusals the scenario itself declares."""
        self.faults.clear()
        for spec in self.scenario.accounts.values():
            if spec.assume_root_refused:
                self.faults.deny_assume_root(spec.account_id)
            if spec.role_refused:
                self.faults.deny_assume_role(spec.account_id)

    def _seed_root_states(self) -> None:
        from moto.iam.models import AccessKey, iam_backends

        self.reset_faults()
        with REGISTRY.lock:
            for spec in self.scenario.accounts.values():
                REGISTRY.root_states[spec.account_id] = spec.root.copy()
                for key in spec.root.access_keys:
                    # A long-term root key can sign requests: moto maps it to its account, the
                    # extensions treat its caller as root.
                    REGISTRY.root_keys[key.key_id] = spec.account_id
                    moto_key = AccessKey(user_name=None, prefix="AKIA", account_id=spec.account_id,
                                         status=key.status)
                    moto_key.access_key_id = key.key_id
                    iam_backends[spec.account_id]["aws"].access_keys[key.key_id] = moto_key
        ext_keyindex.forget()
