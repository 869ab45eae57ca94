"""Catalog benchmark: a store's product-list API on the multi-tenant platform against plain single-tenant Django.

Seeds 1,000 stores (real tenant schemas) with 200 products each, then serves, with gunicorn on
loopback and the same worker settings, (a) the platform (config.settings) answering one store's
`GET /api/v1/products` by its host name, (b) the same platform without its API-request metering
(bench/unmetered_settings.py: what counting each request for the store's bill costs), and (c) the same
view from bench/single_tenant_settings.py (Django's own backend, one database, no routing) over a copy of
the same products; wrk drives all three with the same connections in alternating rounds, in one run.

    make bench-catalog                                    # full run
    make bench-catalog BENCH_ARGS="--stores 50 --duration 5"   # quick look

The last line is: catalog rps=<x> p99_ms=<y> single_tenant_rps=<z> ratio=<x/z> unmetered_rps=<u>
metering_cost_pct=<(u-x)/u in %>
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fleet import create_fleet, database_url_for, fleet_slug, recreate_database, template_script  # noqa: E402

BENCH_DB = "lb_bench_catalog"
SINGLE_DB = "lb_bench_catalog_single"
PRODUCTS_SQL = """
INSERT INTO {schema}.catalog_category (name, slug, parent_id, created_at)
SELECT initcap(w), w, NULL, now()
FROM unnest(ARRAY['pottery','bakery','textiles','woodwork','garden']) AS w;
INSERT INTO {schema}.catalog_product
    (title, description, price, currency, sku, stock, allocated, status, category_id, tags, created_at, updated_at)
SELECT
    (ARRAY['Stoneware','Sourdough','Linen','Oak','Heritage','Handmade','Wildflower','Copper'])[1 + n % 8]
        || ' ' || (ARRAY['mug','loaf','tea towel','board','seeds','bowl','honey','candle'])[1 + n % 8] || ' ' || n,
    'Made in our workshop in small batches from local materials. Each piece differs a little from the '
        || 'next; that is the point. Item ' || n || '.',
    150 + (n * 37) % 9000, 'GBP', 'SKU-' || lpad(n::text, 5, '0'), n % 40, 0,
    CASE WHEN n % 10 = 0 THEN 'draft' ELSE 'active' END,
    (SELECT id FROM {schema}.catalog_category ORDER BY id OFFSET n % 5 LIMIT 1),
    ARRAY['local', (ARRAY['gift','organic','vintage','small-batch'])[1 + n % 4]],
    now() - n * interval '17 minutes', now() - n * interval '11 minutes'
FROM generate_series(1, {count}) AS n;
"""
MEMBER_SQL = """
INSERT INTO {schema}.accounts_user
    (password, is_superuser, email, first_name, last_name, is_staff, is_active, date_joined)
VALUES ('!', false, 'bench-owner@bench.example.com', '', '', false, true, now());
INSERT INTO {schema}.accounts_membership (user_id, role, created_at)
SELECT id, 'owner', now() FROM {schema}.accounts_user WHERE email = 'bench-owner@bench.example.com';
INSERT INTO {schema}.accounts_apitoken (user_id, digest, prefix, created_at, last_used_at)
SELECT id, %(digest)s, 'lbbench', now(), now() FROM {schema}.accounts_user
WHERE email = 'bench-owner@bench.example.com';
"""
BENCH_TOKEN = "lb_bench-catalog-token-not-a-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_products(url: str, schemas: list[str], count: int) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        for start in range(0, len(schemas), 50):
            with conn, conn.cursor() as cursor:
                for schema in schemas[start : start + 50]:
                    cursor.execute(PRODUCTS_SQL.format(schema=schema, count=count))
            print(f"  products: {min(start + 50, len(schemas))}/{len(schemas)} stores", file=sys.stderr, flush=True)
    finally:
        conn.close()


def add_token_holder(url: str, schema: str) -> None:
    import hashlib

    import psycopg2

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cursor:
        cursor.execute(MEMBER_SQL.format(schema=schema), {"digest": hashlib.sha256(BENCH_TOKEN.encode()).hexdigest()})
    conn.close()


def build_single_tenant_database(source_url: str, template: str, products: int) -> str:
    """The store's tables, exactly as in a tenant schema, in `public` of a database of their own."""
    import psycopg2

    url = database_url_for(SINGLE_DB)
    recreate_database(url)
    script = template_script(source_url, template)
    script = re.sub(rf"^CREATE SCHEMA {re.escape(template)};$", "", script, flags=re.MULTILINE)
    script = re.sub(rf"\b{re.escape(template)}\b", "public", script)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # the catalog's trigram index needs it
        cursor.execute(script)
    conn.close()
    seed_products(url, ["public"], products)
    add_token_holder(url, "public")
    return url


def start_gunicorn(settings: str, port: int, workers: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **extra_env,
        "DJANGO_SETTINGS_MODULE": settings,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
        "GUNICORN_MAX_REQUESTS": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "config" / "gunicorn.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    return process


def wait_until_answering(port: int, host: str, process: subprocess.Popen[bytes], products: int) -> None:
    deadline = time.monotonic() + 60
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/products",
        headers={"Host": host, "Authorization": f"Bearer {BENCH_TOKEN}"},
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
                body = response.read()
                if response.status == 200 and f'"count":{products},'.encode() in body:
                    return
                raise SystemExit(f"unexpected answer on port {port}: {body[:200]!r}")
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn on port {port} did not answer in time")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_wrk(port: int, host: str, connections: int, seconds: int, threads: int) -> tuple[float, float]:
    """(requests per second, p99 latency in ms); any non-2xx answer aborts the benchmark."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Host: {host}",
            "-H",
            f"Authorization: Bearer {BENCH_TOKEN}",
            f"http://127.0.0.1:{port}/api/v1/products",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per app")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 3)))
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep the databases of a previous run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    url = database_url_for(BENCH_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STATICFILES_MANIFEST", "0")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench-catalog")
    target = fleet_slug(args.stores // 2 + 1)
    host = f"{target}.fleet.localhost"
    single_url = database_url_for(SINGLE_DB)

    if not args.reuse:
        recreate_database(url)
    import django

    django.setup()
    from billing import api_metering

    if not args.reuse:
        from django.core.management import call_command

        from tenants import schema_pool

        print(f"bench database {BENCH_DB}: migrating public and the template schema", file=sys.stderr)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        schema_pool.ensure_template_schema()
        template = schema_pool.template_schema_name()
        seconds = create_fleet(url, template, 1, args.stores)
        print(f"  {args.stores} store schemas in {seconds:.1f}s", file=sys.stderr)
        started = time.perf_counter()
        seed_products(url, [f"t_{fleet_slug(n)}" for n in range(1, args.stores + 1)], args.products)
        print(f"  {args.stores * args.products} products in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        add_token_holder(url, f"t_{target}")
        build_single_tenant_database(url, template, args.products)
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
        subprocess.run(["psql", single_url, "-qc", "VACUUM ANALYZE"], check=True)

    if not api_metering.is_enabled():
        raise SystemExit("REDIS_URL is not set: the platform would count nothing (make bench-catalog sets it)")
    counted_before = sum(api_metering.counted_so_far().values())

    ports = {"platform": free_port(), "unmetered": free_port(), "single": free_port()}
    single_env = {"SINGLE_TENANT_DATABASE_URL": single_url}
    servers = {
        "platform": (start_gunicorn("config.settings", ports["platform"], args.workers, {}), host),
        "unmetered": (start_gunicorn("bench.unmetered_settings", ports["unmetered"], args.workers, {}), host),
        "single": (
            start_gunicorn("bench.single_tenant_settings", ports["single"], args.workers, single_env),
            "localhost",
        ),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    try:
        for name, (proc, name_host) in servers.items():
            wait_until_answering(ports[name], name_host, proc, args.products)
            run_wrk(ports[name], name_host, args.connections, 3, args.wrk_threads)  # warm-up
        for round_number in range(1, args.rounds + 1):
            for name, (_proc, name_host) in servers.items():
                rps, p99 = run_wrk(ports[name], name_host, args.connections, args.duration, args.wrk_threads)
                results[name].append((rps, p99))
                print(f"round {round_number} {name}: rps={rps:.0f} p99_ms={p99:.1f}", flush=True)
    finally:
        for proc, _ in servers.values():
            stop(proc)

    # The metered platform counted its requests (wrk's and the warm-up's): the comparison is real.
    counted = sum(api_metering.counted_so_far().values()) - counted_before
    if counted <= 0:
        raise SystemExit("the platform counted no API requests: the metering comparison would mean nothing")
    rps = statistics.mean(r for r, _ in results["platform"])
    unmetered_rps = statistics.mean(r for r, _ in results["unmetered"])
    p99 = statistics.median(p for _, p in results["platform"])
    single_rps = statistics.mean(r for r, _ in results["single"])
    single_p99 = statistics.median(p for _, p in results["single"])
    print(f"single tenant p99_ms={single_p99:.1f}; workers={args.workers} connections={args.connections}")
    print(f"api requests counted for the store's bill during the run: {counted}")
    print(
        f"reproduce: make bench-catalog BENCH_ARGS='--stores {args.stores} --products {args.products} "
        f"--connections {args.connections} --duration {args.duration} --rounds {args.rounds} --workers {args.workers}'"
    )
    print(
        f"catalog rps={rps:.0f} p99_ms={p99:.1f} single_tenant_rps={single_rps:.0f} ratio={rps / single_rps:.2f} "
        f"unmetered_rps={unmetered_rps:.0f} metering_cost_pct={(unmetered_rps - rps) / unmetered_rps * 100:.1f}"
    )


if __name__ == "__main__":
    main()
