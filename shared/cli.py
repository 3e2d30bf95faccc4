"""The `hubben` command: serve, migrate, admin."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import sys
from pathlib import Path

import typer
from rich.console import Console

from shared.settings import Settings, get_settings

app = typer.Typer(
    help="Hubben: a social networking hub for AI work in the public sector and civil society.", no_args_is_help=True
)
admin = typer.Typer(help="Platform administration.", no_args_is_help=True)
app.add_typer(admin, name="admin")
search = typer.Typer(help="The search index.", no_args_is_help=True)
app.add_typer(search, name="search")
graphql_cli = typer.Typer(help="The GraphQL API.", no_args_is_help=True)
app.add_typer(graphql_cli, name="graphql")
console = Console(stderr=True)


# Every service that owns a database: its name and where its Alembic scripts live.
SERVICES = ("graph", "feed", "search", "moderation")


def _migrations(service: str) -> Path:
    return Path(__file__).resolve().parent.parent / "services" / service / "migrations"


async def migrate_all(settings: Settings) -> None:
    """Bring every service's database schema up to date."""
    from shared.database import make_engine
    from shared.database import migrate as run

    for name in SERVICES:
        engine = make_engine(settings, name)
        try:
            await run(engine, settings, name, _migrations(name))
        finally:
            await engine.dispose()


def _check_migrated(settings: Settings, services: tuple[str, ...]) -> None:
    from shared.database import NotMigrated, prepare_database

    async def go() -> None:
        for name in services:
            engine = await prepare_database(settings, name, _migrations(name))
            await engine.dispose()

    try:
        asyncio.run(go())
    except NotMigrated as exc:
        console.print(f"[red]Hubben cannot start:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    service: str = typer.Option(
        "gateway", help="gateway (default, with in-process services), graph, feed, search or moderation."
    ),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run Hubben. With no configuration: SQLite under var/, demo data on first start."""
    import uvicorn

    settings = get_settings()
    if service not in ("gateway", *SERVICES):
        raise typer.BadParameter("choose gateway, graph, feed, search or moderation", param_hint="--service")
    if service == "feed" and not settings.graph_url:
        raise typer.BadParameter("the feed service on its own needs HUBBEN_GRAPH_URL", param_hint="--service")
    if service in ("search", "moderation") and not (settings.graph_url and settings.feed_url):
        raise typer.BadParameter(
            f"the {service} service on its own needs HUBBEN_GRAPH_URL and HUBBEN_FEED_URL", param_hint="--service"
        )
    jobs_here = (
        service == "gateway"
        and not any(getattr(settings, f"{name}_url") for name in SERVICES)
        and settings.run_jobs_in_process
    )
    if jobs_here and workers > 1 and not settings.redis_url:
        # Without Redis each process would run jobs from memory only; with it, arq shares them.
        raise typer.BadParameter(
            "with jobs in-process and no Redis, run one worker process; to scale out, set HUBBEN_REDIS_URL "
            "(and optionally run `hubben worker` with HUBBEN_RUN_JOBS_IN_PROCESS=false)",
            param_hint="--workers",
        )
    # The services this process runs itself, and so whose databases it must find migrated.
    local = (
        (service,) if service != "gateway" else tuple(name for name in SERVICES if not getattr(settings, f"{name}_url"))
    )
    if not settings.embedded:
        _check_migrated(settings, local)
    elif "graph" in local and settings.demo_data:
        asyncio.run(_seed_demo(settings))
    console.print(f"Hubben {service} on http://{host}:{port}" + ("/graphql" if service == "gateway" else ""))
    uvicorn.run(
        f"services.{service}.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
        server_header=False,
    )


async def _seed_demo(settings: Settings) -> None:
    from services.graph.demo import seed_if_empty
    from shared.database import make_sessionmaker, prepare_database

    engine = await prepare_database(settings, "graph", _migrations("graph"))
    try:
        if await seed_if_empty(make_sessionmaker(engine)):
            console.print("Demo data created: the Kraftsamlingen hub, organisations, members and their AI initiatives.")
    finally:
        await engine.dispose()


@app.command()
def worker() -> None:
    """Run jobs: relay every service's outbox and, with Redis, work arq's queue (run one or more)."""
    from shared.worker import main

    settings = get_settings()
    if not settings.embedded:
        _check_migrated(settings, SERVICES)
    console.print(
        "Hubben worker: " + ("arq jobs on " + settings.redis_url if settings.redis_url else "jobs in-process")
    )
    main(settings)


@app.command()
def migrate() -> None:
    """Bring every service's database schema up to date."""
    asyncio.run(migrate_all(get_settings()))
    console.print("Migrated: " + ", ".join(SERVICES))


@admin.command("create")
def admin_create(
    email: str = typer.Option(..., help="The admin's email address."),
    handle: str = typer.Option("admin", help="The admin's handle."),
    name: str = typer.Option("Administrator", help="Display name."),
) -> None:
    """Create a platform admin. The password is read from HUBBEN_ADMIN_PASSWORD or asked for."""
    from pydantic import ValidationError

    from services.graph import contracts as c
    from services.graph.service.identity import create_member
    from shared.database import make_sessionmaker, prepare_database
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
        engine = await prepare_database(get_settings(), "graph", _migrations("graph"))
        try:
            async with make_sessionmaker(engine)() as session:
                member = await create_member(session, data, platform_role="admin", verified=True)
                await session.commit()
                return member.id
        finally:
            await engine.dispose()

    try:
        member_id = asyncio.run(go())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Admin created: @{data.handle} ({data.email}), id {member_id}")


@search.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from the services' data, then swap it in: searches keep
    answering from the old index meanwhile, and changes made during the build are kept."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from services.feed.client import FeedClient
    from services.graph.client import GraphClient
    from services.search import service
    from services.search.backends import open_engine
    from services.search.contracts import ReindexOut
    from shared.auth import TokenCodec, load_key_pair
    from shared.database import make_sessionmaker, prepare_database
    from shared.errors import DomainError
    from shared.search_documents import DocType

    settings = get_settings()

    async def go() -> ReindexOut:
        db = await prepare_database(settings, "search", _migrations("search"))
        engine = open_engine(settings)
        codec = TokenCodec(settings, load_key_pair(settings))
        try:
            async with contextlib.AsyncExitStack() as stack:
                graph, _ = await GraphClient.for_settings(settings, codec, stack)
                feed, _ = await FeedClient.for_settings(settings, codec, stack, graph)
                sources = service.Sources(graph=graph, feed=feed)
                columns = (
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed:,}"),
                )
                with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
                    tasks = {t: progress.add_task(f"{t.value}s", total=None) for t in DocType}

                    def advance(doc_type: DocType, count: int) -> None:
                        progress.advance(tasks[doc_type], count)

                    out = await service.reindex(engine, sources, make_sessionmaker(db), advance)
                    for task in tasks.values():
                        progress.update(task, total=progress.tasks[task].completed)
                    return out
        finally:
            await engine.close()
            await db.dispose()

    try:
        out = asyncio.run(go())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    console.print(
        f"Search index {out.generation} is live: {out.documents:,} documents"
        + (f", {out.pending_applied:,} changed during the build" if out.pending_applied else "")
    )


@graphql_cli.command("manifest")
def graphql_manifest(
    paths: list[Path] = typer.Argument(..., help=".graphql files, or folders searched for *.graphql and *.gql."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the manifest here, not to stdout."),
    include_map: bool = typer.Option(
        True, "--include-map/--no-include-map", help="Add the document /karta's browser script sends."
    ),
) -> None:
    """Build the allow-list manifest {sha256: document} that HUBBEN_GRAPHQL_ALLOWLIST names.
    Each file is one document, listed exactly as written: clients send that text or its
    SHA-256. Every document is validated against the schema."""
    import json

    from graphql import GraphQLError, parse, validate

    from services.gateway.graphql.schema import build_schema
    from services.gateway.persisted import ManifestError, build_manifest, map_script_document

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".graphql", ".gql") and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            console.print(f"[red]{path}: no such file or folder[/red]", soft_wrap=True)  # paths stay whole on one line
            raise typer.Exit(2)
    sources = {str(f): f.read_text("utf-8") for f in files}
    if include_map:
        try:
            sources["karta.js"] = map_script_document()
        except (OSError, ManifestError) as exc:
            console.print(f"[red]The map's document: {exc}[/red]", soft_wrap=True)
            raise typer.Exit(2) from exc
    if not sources:
        console.print("[red]No .graphql documents found.[/red]", soft_wrap=True)
        raise typer.Exit(2)
    schema = build_schema()._schema
    for name, document in sources.items():
        try:
            errors = validate(schema, parse(document))
        except GraphQLError as exc:
            errors = [exc]
        if errors:
            console.print(f"[red]{name}: {errors[0].message}[/red]", soft_wrap=True)  # paths stay whole on one line
            raise typer.Exit(2)
    manifest = json.dumps(build_manifest(list(sources.values())), indent=2, sort_keys=True, ensure_ascii=False)
    if output is None:
        sys.stdout.write(manifest + "\n")
    else:
        output.write_text(manifest + "\n", "utf-8")
        console.print(f"{len(sources)} documents written to {output}")
