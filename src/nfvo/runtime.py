"""The composition root: what one nfvo process builds and runs, for each role.

:class:`Runtime` builds the services (database and its migrations, catalog, API clients and
tokens, resources, LCM, notifications), launches the workflow engine and owns the background
work: the periodic VIM sync, the notification delivery worker and the consumers of VIM
notifications over AMQP. :func:`serve` runs a whole process: an API node (role ``all`` or
``api``) serves the SOL005 API with uvicorn; a ``worker`` runs operations and answers only
``/healthz``, from a standard-library thread, and never imports FastAPI or uvicorn.

Every role builds the same services and runs the same background work; the roles differ in
the HTTP surface and in whether the engine takes operations off the queue (``api`` only
enqueues them, ``worker`` and ``all`` run them).
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from nfvo import __version__
from nfvo.auth.service import ClientService, TokenService, bootstrap_admin, login_guard
from nfvo.catalog.service import CatalogService
from nfvo.config import Settings
from nfvo.health import HealthServer
from nfvo.inventory.db import Database
from nfvo.lcm import engine, steps
from nfvo.lcm.actions import ActionPlanService
from nfvo.lcm.service import LcmService
from nfvo.monitoring import fm
from nfvo.monitoring.amqp import NotificationConsumers
from nfvo.monitoring.current import CurrentMetrics
from nfvo.monitoring.manager import SourceManager
from nfvo.monitoring.pm import PmService
from nfvo.monitoring.store import SampleStore
from nfvo.notifications.service import NotificationService
from nfvo.resources.service import ResourceService
from nfvo.resources.vault import Vault, load_key
from nfvo.vnfm.builtin import BuiltinVnfm

if TYPE_CHECKING:
    from nfvo.monitoring.fm import FaultManager
    from nfvo.monitoring.hub import Monitor
    from nfvo.monitoring.model import FaultEvent
    from nfvo.policy.heal import AutoHealer
    from nfvo.policy.rca.engine import RcaEngine
    from nfvo.policy.rca.graph import EntityGraph
    from nfvo.policy.scaling import AutoScaler
    from nfvo.policy.store import PolicyStore
    from nfvo.policy.window_timer import WindowScheduler
    from nfvo.policy.windows import WindowService

log = logging.getLogger(__name__)

ROLES = ("all", "api", "worker")


def serves_api(role: str) -> bool:
    """Whether a process of ``role`` serves the SOL005 API (a worker answers only /healthz)."""
    return role != "worker"


@dataclass
class Services:
    """Everything a request handler or a background task may use, built once per process."""

    settings: Settings
    db: Database
    catalog: CatalogService
    tokens: TokenService
    clients: ClientService
    resources: ResourceService
    lcm: LcmService
    notifications: NotificationService | None = None
    vim_events: NotificationConsumers | None = None  # set while the runtime runs
    action_plans: ActionPlanService | None = None  # consolidation / rebalance plans
    pm: PmService | None = None  # nspm: PM jobs, reports, thresholds and their scheduler
    # monitoring (set while the runtime runs): the hub, the per-VIM sources, the sample store
    monitor: Monitor | None = None
    sources: SourceManager | None = None
    sample_store: SampleStore | None = None
    faults: FaultManager | None = None  # nsfm: alarms raised and cleared from fault events
    metrics: CurrentMetrics | None = None  # the current-value views of /admin/v1
    windows: WindowService | None = None  # availability windows (policy engine)
    window_timers: WindowScheduler | None = None  # their durable timers (while running)
    policies: PolicyStore | None = None  # auto-scaling policies (/admin/v1/policies)
    scaler: AutoScaler | None = None  # the auto-scaler (set while monitoring runs)
    rca_graph: EntityGraph | None = None  # RCA's entity graph (set while monitoring runs)
    rca: RcaEngine | None = None  # root-cause analysis: the hub's fault listener
    healer: AutoHealer | None = None  # auto-heal of root causes (worker roles)

    def __post_init__(self) -> None:
        if self.metrics is None:
            self.metrics = CurrentMetrics(self.db, lambda: self.monitor)

    def fault(self, event: FaultEvent) -> None:
        """Hand a fault event to the monitoring hub (dropped while monitoring is stopped)."""
        if self.monitor is not None:
            self.monitor.fault(event)

    def refresh_vim_events(self) -> None:
        """Start or stop VIM notification consumers and monitoring sources after a VIM
        account changed."""
        if self.vim_events is not None:
            self.vim_events.refresh()
        if self.sources is not None:
            self.sources.poke()


def build_services(settings: Settings) -> Services:
    """Open the database, migrate it, create the admin client on first start, and assemble
    the services (the engine is not launched: see :meth:`Runtime.start`)."""
    settings.validate()
    settings.prepare_dirs()
    db = Database(settings.effective_database_url)
    db.migrate()
    catalog = CatalogService(db, settings.data_dir / "cache")
    catalog.recover_interrupted()
    vault = Vault(load_key(settings.data_dir))
    tokens = TokenService(db, settings.token_ttl_seconds, vault)
    resources = ResourceService(db, vault, settings.data_dir, guard=settings.outbound_guard)
    created = bootstrap_admin(db, settings)
    if created:
        log.warning("admin client created; its credentials are in %s (mode 0600)", created)
    lcm = LcmService(db, catalog, resources)
    notifications = NotificationService(
        db, vault, public_url=settings.public_url, guard=settings.outbound_guard
    )
    svc = Services(
        settings=settings,
        db=db,
        catalog=catalog,
        tokens=tokens,
        clients=ClientService(db, tokens, login_guard(settings)),
        resources=resources,
        lcm=lcm,
        notifications=notifications,
        action_plans=ActionPlanService(db, catalog, resources, lcm),
        pm=PmService(db, notifications),
        policies=_policy_store(db, catalog),
    )
    from nfvo.policy.windows import PlanDrainer, WindowService

    svc.windows = WindowService(db, PlanDrainer(svc.action_plans), notify=svc.fault)
    return svc


def _policy_store(db: Database, catalog: CatalogService) -> PolicyStore:
    """The auto-scaling policies: those of /admin/v1/policies and those the descriptors of
    each instantiated NS declare."""
    from nfvo.policy import descriptors
    from nfvo.policy.store import PolicyStore

    return PolicyStore(
        db,
        catalog=catalog,
        descriptor_policies=lambda ns_id: descriptors.scaling_policies_for(db, ns_id),
    )


class Runtime:
    """One nfvo process's services and background work, started and stopped as a whole.

    It exists so that the HTTP layer only serves requests: it does not decide what a process
    runs. ``services`` is built on first use (tests read it before ``start``); ``start`` and
    ``stop`` are idempotent and block (call them off an event loop).
    """

    def __init__(self, settings: Settings) -> None:
        if settings.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)} (got {settings.role!r})")
        self.settings = settings
        self._services: Services | None = None
        self._lock = threading.Lock()
        self._started = False
        self._sync_stop = threading.Event()
        self._sync_thread: threading.Thread | None = None

    @property
    def services(self) -> Services:
        """The services (the database is opened and migrated on first use)."""
        with self._lock:
            if self._services is None:
                self._services = build_services(self.settings)
            return self._services

    @property
    def started(self) -> bool:
        """Whether the engine and the background work run."""
        return self._started

    def start(self) -> None:
        """Launch the workflow engine for this role, then the background work (if a part
        fails to start, the parts already running are stopped and the error raised)."""
        svc = self.services
        with self._lock:
            if self._started:
                return
            svc.resources.resume_background()
            self._launch_engine(svc)
            self._started = True
            try:
                self._start_vim_sync(svc)
                if svc.notifications is not None:
                    svc.notifications.start()
                self._start_pm(svc)
                self._start_monitoring(svc)
                self._start_windows(svc)
                vim_events = NotificationConsumers(svc.db, svc.resources.vault, sink=svc.monitor)
                svc.vim_events = vim_events
                vim_events.start()
            except BaseException:
                self._stop(svc)
                raise
            gc.freeze()  # start-up objects leave the collector: no ~200 ms full collections

    def stop(self) -> None:
        """Stop the background work (operations in flight resume wherever the engine runs
        next; queued notifications stay queued)."""
        with self._lock:
            if self._started and self._services is not None:
                self._stop(self._services)

    def interrupt(self) -> None:
        """End VIM work in flight at once (called on SIGINT/SIGTERM, before the graceful
        shutdown waits for requests and their background tasks to finish)."""
        if self._services is not None:
            self._services.resources.stop_background()

    def _stop(self, svc: Services) -> None:
        svc.resources.stop_background()
        self._sync_stop.set()
        if self._sync_thread is not None:
            self._sync_thread.join(timeout=5)
            self._sync_thread = None
        vim_events, svc.vim_events = svc.vim_events, None
        if vim_events is not None:
            vim_events.stop()
        if svc.notifications is not None:
            svc.notifications.stop()
        if svc.pm is not None:
            svc.pm.stop()
        timers, svc.window_timers = svc.window_timers, None
        if timers is not None:
            timers.stop()
        self._stop_monitoring(svc)
        self._started = False

    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def health(self) -> dict[str, Any]:
        """The ``/healthz`` body of this process."""
        return {"status": "ok", "version": __version__, "role": self.settings.role}

    def _launch_engine(self, svc: Services) -> None:
        engine.launch(
            self.settings.effective_database_url,
            str(self.settings.data_dir),
            steps.Context(
                db=svc.db,
                catalog=svc.catalog,
                resources=svc.resources,
                vnfm=BuiltinVnfm(svc.resources.driver, svc.catalog.open_vnf_file),
            ),
            role=self.settings.role,
            executor_id=self.settings.executor_id,
        )

    def _start_pm(self, svc: Services) -> None:
        """Start the nspm scheduler, reading the monitoring hub when the process has one."""
        if svc.pm is None:
            return
        svc.pm.follow(lambda: getattr(svc, "monitor", None))  # set when monitoring runs
        svc.pm.start()

    def _start_monitoring(self, svc: Services) -> None:
        """The monitoring hub, the sample store listening to it, root-cause analysis (the
        hub's fault listener) with auto-heal, the per-VIM sources (a source that fails to
        start is logged and retried, it never fails the start) and the auto-scaler."""
        from nfvo.monitoring.hub import Monitor

        monitor = Monitor(svc.db)
        monitor.start()
        svc.monitor = monitor
        # nsfm alarms from every fault event, through root-cause analysis (registered below)
        svc.faults = fm.attach(monitor, svc.db, listen=False)
        if self.settings.role != "api":  # one writer per deployment's workers, not per API node
            store = SampleStore(svc.db, retention_s=self.settings.sample_retention_seconds)
            monitor.on_samples(store.add)
            store.start()
            svc.sample_store = store
        self._start_rca(svc, monitor)  # before the sources: no fault goes unheard
        sources = SourceManager(svc.resources, monitor)
        svc.sources = sources
        sources.start()
        self._start_scaler(svc, monitor)

    def _start_scaler(self, svc: Services, monitor: Monitor) -> None:
        """The auto-scaler over the hub: every node takes scaling alerts; the evaluator
        thread runs where operations run (not on an ``api`` node)."""
        from nfvo.policy.scaling import AutoScaler

        if svc.policies is None:
            return
        scaler = AutoScaler(svc.db, svc.lcm, monitor, svc.policies.scaling_policies)
        svc.scaler = scaler
        if self.settings.role != "api":
            monitor.on_samples(scaler.on_samples)
            scaler.start()

    def _start_windows(self, svc: Services) -> None:
        """The availability windows' timers (every role: a claim makes each event fire in
        one process)."""
        from nfvo.policy.window_timer import WindowScheduler

        if svc.windows is None:
            return
        timers = WindowScheduler(svc.db, svc.windows.drainer, notify=svc.fault)
        svc.windows.poke = timers.poke
        svc.window_timers = timers
        timers.start()

    def _start_rca(self, svc: Services, monitor: Monitor) -> None:
        """Root-cause analysis over the entity graph: THE fault listener of the hub (it
        raises and clears the nsfm alarms through the fault manager); auto-heal acts on its
        root causes where operations run (not on an ``api`` node)."""
        from nfvo.policy import descriptors
        from nfvo.policy.heal import AutoHealer
        from nfvo.policy.rca.engine import RcaEngine
        from nfvo.policy.rca.graph import EntityGraph

        assert svc.faults is not None
        graph = EntityGraph(svc.db)  # built by its own thread: the start does not wait
        graph.start()
        svc.rca_graph = graph
        rca = RcaEngine(svc.db, graph, svc.faults)  # evaluates once the graph is ready
        svc.rca = rca
        if self.settings.role != "api":
            db = svc.db
            healer = AutoHealer(
                db, svc.lcm, heal_enabled=lambda vnf: descriptors.autoheal_enabled(db, vnf)
            )
            rca.on_root_cause(healer.on_root)
            healer.start()
            svc.healer = healer
        monitor.on_fault(rca.handle)
        rca.start()

    def _stop_monitoring(self, svc: Services) -> None:
        scaler, svc.scaler = svc.scaler, None
        if scaler is not None:
            scaler.stop()
        sources, svc.sources = svc.sources, None
        if sources is not None:
            sources.stop()
        healer, svc.healer = svc.healer, None
        if healer is not None:
            healer.stop()
        rca, svc.rca = svc.rca, None
        if rca is not None:
            rca.stop()
        graph, svc.rca_graph = svc.rca_graph, None
        if graph is not None:
            graph.stop()
        svc.faults = None
        monitor, svc.monitor = svc.monitor, None
        if monitor is not None:
            monitor.stop()
        store, svc.sample_store = svc.sample_store, None
        if store is not None:
            store.stop()

    def _start_vim_sync(self, svc: Services) -> None:
        """Re-sync every VIM account every ``sync_interval_seconds`` (0 disables)."""
        interval = self.settings.sync_interval_seconds
        self._sync_stop.clear()
        if interval <= 0:
            return

        def loop() -> None:
            while not self._sync_stop.wait(interval):
                try:
                    svc.resources.sync_all()
                except Exception:  # a database hiccup must not end the periodic sync
                    log.exception("periodic VIM sync failed")

        self._sync_thread = threading.Thread(target=loop, name="vim-sync", daemon=True)
        self._sync_thread.start()


def serve(settings: Settings, host: str, port: int, log_level: str = "info") -> None:
    """Run this process in its role until SIGINT or SIGTERM."""
    runtime = Runtime(settings)
    if serves_api(settings.role):
        _serve_api(runtime, host, port, log_level)
    else:
        serve_worker(runtime, host, port)


def _serve_api(runtime: Runtime, host: str, port: int, log_level: str) -> None:
    import uvicorn

    from nfvo.api.app import create_app
    from nfvo.api.server import server_config

    config = server_config(create_app(runtime), runtime.settings, host, port, log_level)
    server = uvicorn.Server(config)
    handle_exit = server.handle_exit

    def on_exit(sig: int, frame: FrameType | None) -> None:
        runtime.interrupt()  # background VIM work would otherwise hold the graceful shutdown
        handle_exit(sig, frame)

    server.handle_exit = on_exit  # type: ignore[method-assign]
    try:
        server.run()
    except KeyboardInterrupt:  # SIGINT, re-raised by uvicorn once it has shut down
        pass
    if not server.started:
        sys.exit(3)  # as uvicorn.run: the application did not start


def serve_worker(
    runtime: Runtime, host: str, port: int, stop: threading.Event | None = None
) -> None:
    """Start ``runtime``, answer ``/healthz`` on ``host:port`` and block until ``stop`` is set
    or, when called from the main thread, SIGINT or SIGTERM arrives; then stop everything and,
    like uvicorn on an API node, re-raise that signal with its previous handler."""
    stop = stop or threading.Event()
    received: list[int] = []
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: FrameType | None) -> None:
            received.append(signum)
            runtime.interrupt()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    health = HealthServer(host, port, runtime.health)
    try:
        runtime.start()
        health.start()
        log.info("nfvo worker running; health on http://%s:%d/healthz", host, health.port)
        while not stop.wait(1.0):
            pass
        log.info("nfvo worker shutting down")
    finally:
        health.stop()
        runtime.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for sig in reversed(received):
        signal.raise_signal(sig)
