"""moto's server dispatcher with its host lookups kept.

For every request moto's `DomainDispatcherApplication` finds the backend serving a host by listing its
own package folder (a stat of each of some 200 entries) and then trying each backend's URL pattern in
turn, all under the one lock every request takes: about a fifth of the simulation's CPU in a demo. The
answer for a host never changes while the server runs, so it is looked up once per host.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication


class HostCachingDispatcher(DomainDispatcherApplication):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._backend_of: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # moto calls this with self.lock held
        if host not in self._backend_of:
            self._backend_of[host] = super().get_backend_for_host(host)
        return self._backend_of[host]
