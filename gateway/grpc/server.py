"""The gRPC server: wagate.v1 services, health and reflection, on the HTTP host."""

from __future__ import annotations

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gateway.admin.grpc import AdminServicer
from gateway.bots.remote import BotServicer
from gateway.grpc.auth import AuthInterceptor
from gateway.grpc.events import EventServicer
from gateway.grpc.messaging import MessagingServicer
from gateway.grpc.sessions import SessionServicer
from wagate.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    bot_service_pb2,
    bot_service_pb2_grpc,
    event_service_pb2,
    event_service_pb2_grpc,
    messaging_service_pb2,
    messaging_service_pb2_grpc,
    session_service_pb2,
    session_service_pb2_grpc,
)


async def start_grpc(
    host: str,
    port: int,
    auth: AuthInterceptor,
    *,
    messaging: MessagingServicer,
    sessions: SessionServicer,
    events: EventServicer,
    bots: BotServicer,
    admin: AdminServicer,
    shared_port: bool = False,
) -> aio.Server:
    """Serve the given servicers (built by `gateway.compose`), with health and reflection.

    `shared_port`: this process is one of a gateway's workers, which all bind the port.
    """
    # grpc sets SO_REUSEPORT by default: a second gateway on the same port would bind
    # too and silently take half the calls. Exclusive, so that it fails instead; only
    # the workers of one gateway share it (gateway/workers.py checked it was free).
    reuseport = 1 if shared_port else 0
    server = aio.server(interceptors=[auth], options=[("grpc.so_reuseport", reuseport)])
    messaging_service_pb2_grpc.add_MessagingServiceServicer_to_server(  # type: ignore[no-untyped-call]
        messaging, server
    )
    session_service_pb2_grpc.add_SessionServiceServicer_to_server(  # type: ignore[no-untyped-call]
        sessions, server
    )
    event_service_pb2_grpc.add_EventServiceServicer_to_server(  # type: ignore[no-untyped-call]
        events, server
    )
    bot_service_pb2_grpc.add_BotServiceServicer_to_server(  # type: ignore[no-untyped-call]
        bots, server
    )
    admin_service_pb2_grpc.add_AdminServiceServicer_to_server(  # type: ignore[no-untyped-call]
        admin, server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    services = [
        messaging_service_pb2.DESCRIPTOR.services_by_name["MessagingService"].full_name,
        session_service_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name,
        event_service_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
        bot_service_pb2.DESCRIPTOR.services_by_name["BotService"].full_name,
        admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
        health.SERVICE_NAME,
        reflection.SERVICE_NAME,
    ]
    reflection.enable_server_reflection(services, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:  # newer grpcio raises where older ones returned 0
        bound = 0
    if bound == 0:
        raise OSError(f"gRPC port {host}:{port} is not available")
    await server.start()
    for name in ("", *services[:-2]):  # ours, not health and reflection themselves
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server
