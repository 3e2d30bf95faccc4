"""The `hubben` command: serve, migrate, admin."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys

import typer
from rich.console import Console

from shared.settings import Settings, get_settings

app = typer.Typer(
    help="Hubben: a social networking hub for AI work in the public sector and civil society.", no_args_is_help=True
)
admin = typer.Typer(help="Platform administration.", no_args_is_help=True)
app.add_typer(admin, name="admin")
console = Console(stderr=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    service: str = typer.Option("gateway", help="gateway (default, with in-process services) or graph."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run Hubben. With no configuration: SQLite under var/, demo data on first start."""
    import uvicorn

    settings = get_settings()
    if service not in ("gateway", "graph"):
        raise typer.BadParameter("choose gateway or graph", param_hint="--service")
    if service == "gateway" and settings.graph_url:
        pass  # the graph service runs on its own and owns the database: nothing to check or seed here
    elif not settings.embedded:
        from services.graph.api import MIGRATIONS, SERVICE, NotMigrated, prepare_database

        try:
            engine = asyncio.run(prepare_database(settings))
            asyncio.run(engine.dispose())  # type: ignore[attr-defined]
        except NotMigrated as exc:
            console.print(f"[red]Hubben cannot start:[/red] {exc}")
            raise typer.Exit(2) from exc
        del MIGRATIONS, SERVICE
    elif settings.demo_data:
        asyncio.run(_seed_demo(settings))
    factory = "services.gateway.main:app" if service == "gateway" else "services.graph.main:app"
    console.print(f"Hubben {service} on http://{host}:{port}" + ("/graphql" if service == "gateway" else ""))
    uvicorn.run(
        factory,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
        server_header=False,
    )


async def _seed_demo(settings: Settings) -> None:
    from services.graph.api import prepare_database
    from services.graph.demo import seed_if_empty
    from shared.database import make_sessionmaker

    engine = await prepare_database(settings)
    try:
        if await seed_if_empty(make_sessionmaker(engine)):  # type: ignore[arg-type]
            console.print("Demo data created: the Kraftsamlingen hub, organisations and members.")
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


@app.command()
def migrate() -> None:
    """Bring every service's database schema up to date."""
    from services.graph.api import MIGRATIONS, SERVICE
    from shared.database import make_engine
    from shared.database import migrate as run

    settings = get_settings()

    async def go() -> None:
        engine = make_engine(settings, SERVICE)
        try:
            await run(engine, settings, SERVICE, MIGRATIONS)
        finally:
            await engine.dispose()

    asyncio.run(go())
    console.print("Migrated: graph")


@admin.command("create")
def admin_create(
    email: str = typer.Option(..., help="The admin's email address."),
    handle: str = typer.Option("admin", help="The admin's handle."),
    name: str = typer.Option("Administrator", help="Display name."),
) -> None:
    """Create a platform admin. The password is read from HUBBEN_ADMIN_PASSWORD or asked for."""
    from pydantic import ValidationError

    from services.graph import contracts as c
    from services.graph.api import prepare_database
    from services.graph.service.identity import create_member
    from shared.database import make_sessionmaker
    from shared.errors import DomainError

    password = os.environ.get("HUBBEN_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            console.print("[red]Set HUBBEN_ADMIN_PASSWORD or run in a terminal to type the password.[/red]")
            raise typer.Exit(2)
        password = getpass.getpass("Password (10+ characters): ")
        if password != getpass.getpass("Again: "):
            console.print("[red]The passwords differ.[/red]")
            raise typer.Exit(2)
    try:
        data = c.SignUpIn(email=email, password=password, handle=handle, display_name=name)
    except ValidationError as exc:
        first = exc.errors()[0]
        console.print(f"[red]{'.'.join(map(str, first['loc']))}: {first['msg']}[/red]")
        raise typer.Exit(2) from exc

    async def go() -> int:
        engine = await prepare_database(get_settings())
        try:
            async with make_sessionmaker(engine)() as session:  # type: ignore[arg-type]
                member = await create_member(session, data, platform_role="admin", verified=True)
                await session.commit()
                return member.id
        finally:
            await engine.dispose()  # type: ignore[attr-defined]

    try:
        member_id = asyncio.run(go())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Admin created: @{data.handle} ({data.email}), id {member_id}")
