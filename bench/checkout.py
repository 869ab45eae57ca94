"""Checkout benchmark: buyers racing for the last units, then a mixed run of many checkouts.

One store (plan `scale`, signed up through the real service) on its own database, served by gunicorn
(gthread workers) on loopback; every buyer signs up over `POST /api/v1/buyers` and shops on the
store's host with its own `lbb_` token, over real HTTP.

1. Race: `--race-buyers` buyers (200), each holding 1 unit of ONE product with `--race-stock` units (10)
   in its cart, check out at once, each with its own `Idempotency-Key`, and each retries once with the
   same key: the even-numbered buyers send the retry in parallel with the first request (on a second
   connection), the odd-numbered ones right after the first answer. Then the store's schema is read:
   orders holding the product, its units, and what is left of its stock (stock - allocated - live
   reservations).
2. Mixed run: `--buyers` buyers (16) loop for `--duration` seconds (30), each putting 1-3 random products
   of `--products` (200, ample stock) in its cart and checking out. **rps** is checkouts answered 201 per
   second of wall time (each cycle's cart adds included in the time); **p95_ms** is the checkout
   requests' own latency.

    make bench-checkout                                          # default run, ~2 minutes
    make bench-checkout BENCH_ARGS="--race-buyers 500 --race-stock 25 --buyers 32 --duration 60"

Last line: checkout orders=<n> stock_left=<s> oversold=<o> duplicates=<d> rps=<x> p95_ms=<y>
(orders, stock_left, oversold, duplicates from the race; duplicates: orders beyond one per key). It
exits non-zero unless the race made exactly `--race-stock` orders, oversold nothing and duplicated
nothing, and every request of both phases got an answer the API promises.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import free_port, start_gunicorn, stop  # noqa: E402
from bench.fleet import database_url_for, recreate_database  # noqa: E402
from bench.onboarding import percentile  # noqa: E402

BENCH_DB = "lb_bench_checkout"
PASSWORD = "Quiet-harbour-lanterns-42"
CHECKOUT = json.dumps({"fulfilment": "pickup", "payment": "local"}).encode()
AMPLE_STOCK = 1_000_000


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool  # the answer carried `Idempotent-Replayed: true`
    ms: float


class Client:
    """One client's keep-alive connection to the app, speaking to one host with one bearer token."""

    def __init__(self, port: int, host: str, token: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Host": host, "Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def connect(self) -> None:
        self.conn.connect()

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        started = time.perf_counter()
        self.conn.request(method, path, body=payload, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        raw = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        replayed = response.getheader("Idempotent-Replayed") == "true"
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:300]
        return Answer(response.status, parsed, replayed, elapsed)

    def close(self) -> None:
        self.conn.close()


def expect(answer: Answer, status: int, what: str) -> Any:
    if answer.status != status:
        raise SystemExit(f"{what}: {answer.status} {str(answer.body)[:300]}")
    return answer.body


def sign_up_store() -> tuple[str, str, str]:
    """(slug, schema, owner's store token) of a store signed up through the real service on plan `scale`."""
    from django.core.management import call_command
    from django.db import connections

    from onboarding.services import SignupRequest, sign_up_merchant
    from tenants import schema_pool

    print(f"bench database {os.environ['BENCH_DATABASE_NAME']}: migrating public and the template", file=sys.stderr)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    schema_pool.ensure_template_schema()
    schema_pool.refill_schema_pool(1)
    result = sign_up_merchant(
        SignupRequest(
            email="owner@bench.example.com",
            password=PASSWORD,
            store_name="Bench Corner Shop",
            subdomain="benchshop",
            town="Hebden Bridge",
            postcode="HX7 8AD",
            tenancy="shared",
            plan="scale",
        )
    )
    assert result.token is not None
    slug, schema = result.tenant.slug, result.tenant.schema_name
    connections.close_all()
    return slug, schema, result.token


def wait_until_ready(port: int, process: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            client = Client(port, "localhost")
            if client.call("GET", "/readyz").status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def in_parallel(count: int, work: Any, threads: int) -> list[Any]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(work, range(count)))


def create_products(port: int, host: str, token: str, count: int, race_stock: int) -> tuple[int, list[int]]:
    """The race's product (`race_stock` units) and `count` products with ample stock, over the API."""

    def create(n: int) -> int:
        client = Client(port, host, token)
        stock = race_stock if n == 0 else AMPLE_STOCK
        body = {"title": f"Bench item {n}", "sku": f"BENCH-{n:05d}", "price": 150 + n, "stock": stock}
        created = expect(client.call("POST", "/api/v1/products", {**body, "status": "active"}), 201, "product")
        client.close()
        return int(created["id"])

    ids = in_parallel(count + 1, create, 4)
    return ids[0], ids[1:]


def sign_up_buyers(port: int, root_host: str, first: int, count: int) -> list[tuple[int, str]]:
    """(buyer id, token) of `count` buyers signed up over the root host's API."""

    def sign_up(n: int) -> tuple[int, str]:
        client = Client(port, root_host)
        body = {"email": f"buyer{first + n}@bench.example.com", "password": PASSWORD, "name": f"Buyer {first + n}"}
        answer = expect(client.call("POST", "/api/v1/buyers", body), 201, "buyer signup")
        client.close()
        return int(answer["buyer"]["id"]), str(answer["token"])

    return in_parallel(count, sign_up, 4)


# --- 1. The race --------------------------------------------------------------------------------------


def race(port: int, host: str, buyers: list[tuple[int, str]], product: int) -> dict[int, list[Answer]]:
    """Every buyer's answers (first request and its retry) to checking out its 1 unit of `product`."""

    def fill_cart(n: int) -> None:
        client = Client(port, host, buyers[n][1])
        expect(client.call("POST", "/api/v1/cart/items", {"product": product, "quantity": 1}), 201, "cart")
        client.close()

    in_parallel(len(buyers), fill_cart, 8)
    # One task per request: the first request of every buyer, plus the parallel retries of even buyers.
    tasks = [(n, "first") for n in range(len(buyers))] + [(n, "parallel retry") for n in range(0, len(buyers), 2)]
    start = threading.Barrier(len(tasks), timeout=120)
    answers: dict[int, list[Answer]] = {n: [] for n in range(len(buyers))}
    lock = threading.Lock()

    def run(task: tuple[int, str]) -> None:
        n, kind = task
        client = Client(port, host, buyers[n][1])
        client.connect()  # the TCP connection is made before the start, so all requests leave together
        key = {"Idempotency-Key": f"race-{n}"}
        start.wait()
        got = [client.call("POST", "/api/v1/checkout", CHECKOUT, key)]
        if kind == "first" and n % 2 == 1:
            got.append(client.call("POST", "/api/v1/checkout", CHECKOUT, key))  # retry after the answer
        client.close()
        with lock:
            answers[n].extend(got)

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        list(pool.map(run, tasks))
    return answers


def race_answers_problems(answers: dict[int, list[Answer]]) -> tuple[Counter[str], list[str]]:
    """What the buyers were told, and every answer the API does not promise (as messages)."""
    told: Counter[str] = Counter()
    problems = []
    for n, got in sorted(answers.items()):
        for answer in got:
            told[f"{answer.status}{' replayed' if answer.replayed else ''}"] += 1
        created = [a for a in got if a.status == 201 and not a.replayed]
        replays = [a for a in got if a.status == 201 and a.replayed]
        sold_out = [a for a in got if a.status == 409 and (a.body or {}).get("code") == "sold_out"]
        numbers = {a.body["order"]["number"] for a in created + replays}
        consistent = (len(created) == 1 and len(replays) == 1 and len(numbers) == 1) or len(sold_out) == 2
        if not consistent:
            problems.append(f"buyer {n}: " + "; ".join(f"{a.status} {str(a.body)[:160]}" for a in got))
    return told, problems


def race_in_database(url: str, schema: str, product: int, buyer_ids: list[int]) -> dict[str, int]:
    import psycopg2

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(DISTINCT o.id), coalesce(sum(l.quantity), 0), count(DISTINCT o.buyer_id)
                  FROM {schema}.orders_order o JOIN {schema}.orders_orderline l ON l.order_id = o.id
                 WHERE l.product_id = %s AND o.buyer_id = ANY(%s)""",
            [product, buyer_ids],
        )
        orders, units, buyers_with_orders = cursor.fetchone()
        cursor.execute(
            f"""SELECT p.stock - p.allocated - coalesce((SELECT sum(r.quantity) FROM {schema}.orders_stockreservation r
                                                      WHERE r.product_id = p.id AND r.expires_at > now()), 0)
                  FROM {schema}.catalog_product p WHERE p.id = %s""",
            [product],
        )
        (stock_left,) = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {schema}.orders_checkoutrequest WHERE key LIKE 'race-%%'")
        (keys_recorded,) = cursor.fetchone()
    conn.close()
    return {
        "orders": orders,
        "units": units,
        "duplicates": orders - buyers_with_orders,  # each buyer checked out under one key
        "stock_left": stock_left,
        "keys_recorded": keys_recorded,
    }


# --- 2. The mixed run ---------------------------------------------------------------------------------


def mixed_run(
    port: int, host: str, buyers: list[tuple[int, str]], products: list[int], seconds: float, seed: int
) -> tuple[list[Answer], list[str], float, int]:
    """(checkout answers, unexpected answers, wall seconds, units ordered by the 201s)."""
    started = time.perf_counter()
    deadline = started + seconds
    checkouts: list[Answer] = []
    problems: list[str] = []
    units = 0
    last_answer = started
    lock = threading.Lock()

    def shop(n: int) -> None:
        nonlocal units, last_answer
        rng = random.Random(seed * 100_003 + n)
        client = Client(port, host, buyers[n][1])
        mine: list[Answer] = []
        bad: list[str] = []
        ordered = 0
        round_no = 0
        while time.perf_counter() < deadline and len(bad) < 5:
            round_no += 1
            picked = rng.sample(products, rng.randint(1, 3))
            for product in picked:
                added = client.call("POST", "/api/v1/cart/items", {"product": product, "quantity": 1})
                if added.status != 201:
                    bad.append(f"cart add: {added.status} {str(added.body)[:200]}")
            answer = client.call("POST", "/api/v1/checkout", CHECKOUT, {"Idempotency-Key": f"mixed-{n}-{round_no}"})
            mine.append(answer)
            if answer.status == 201:
                ordered += sum(line["quantity"] for line in answer.body["order"]["items"])
            else:
                bad.append(f"checkout: {answer.status} {str(answer.body)[:200]}")
        client.close()
        with lock:
            checkouts.extend(mine)
            problems.extend(bad)
            units += ordered
            last_answer = max(last_answer, time.perf_counter())

    in_parallel(len(buyers), shop, len(buyers))
    return checkouts, problems, last_answer - started, units


def mixed_in_database(url: str, schema: str, buyer_ids: list[int], products: list[int]) -> tuple[int, int, int]:
    """(orders of the mixed run's buyers, their units, units allocated on the mixed run's products)."""
    import psycopg2

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(DISTINCT o.id), coalesce(sum(l.quantity), 0)
                  FROM {schema}.orders_order o JOIN {schema}.orders_orderline l ON l.order_id = o.id
                 WHERE o.buyer_id = ANY(%s)""",
            [buyer_ids],
        )
        orders, units = cursor.fetchone()
        cursor.execute(
            f"SELECT coalesce(sum(allocated), 0) FROM {schema}.catalog_product WHERE id = ANY(%s)", [products]
        )
        (allocated,) = cursor.fetchone()
    conn.close()
    return orders, units, allocated


def delete_queue(broker_url: str, queue: str) -> None:
    """Drop the bench's own Celery queue (the buyers' notifications nobody consumes here) from Redis."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return
    import redis

    client = redis.Redis.from_url(broker_url)
    for key in client.scan_iter(f"*{queue}*"):  # the queue, its priority lists, kombu's record of it
        client.delete(key)
    for binding in client.scan_iter("_kombu.binding.*"):
        for member in client.smembers(binding):
            name = member.decode() if isinstance(member, bytes) else str(member)
            if name.endswith(queue):
                client.srem(binding, member)


def report_server_errors(log: Path) -> None:
    """The app's logged errors (a 500's traceback, a worker's crash) to stderr, the log kept to read.

    They fail the run only through the answers: a checkout that got a 500 is an unexpected answer."""
    errors: Counter[str] = Counter()
    in_traceback = False
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if " ERROR " in line or "[CRITICAL]" in line:
            errors[line.split(" ", 2)[-1][:200]] += 1  # without the time stamp
        elif line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and not line.startswith(" "):
            errors[f"  raised {line[:200]}"] += 1  # the exception that ends the traceback
            in_traceback = False
    if not errors:
        log.unlink(missing_ok=True)
        return
    print(f"the server logged errors (its log: {log}):", file=sys.stderr)
    for line, count in errors.most_common(10):
        print(f"  {count} x {line}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--race-buyers", type=int, default=200)
    parser.add_argument("--race-stock", type=int, default=10, help="units of the raced product")
    parser.add_argument("--products", type=int, default=200, help="products of the mixed run (ample stock)")
    parser.add_argument("--buyers", type=int, default=16, help="concurrent buyers of the mixed run")
    parser.add_argument("--duration", type=float, default=30, help="seconds of the mixed run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--database", default=BENCH_DB, help="recreated for the run; its name starts with lb_bench_checkout"
    )
    args = parser.parse_args()
    if not args.database.startswith(BENCH_DB):
        raise SystemExit(f"--database must start with {BENCH_DB}: it is dropped and made again")

    url = database_url_for(args.database)
    recreate_database(url)
    queue = f"bench-checkout-{os.getpid()}"
    os.environ.update(
        DATABASE_URL=url,
        BENCH_DATABASE_NAME=args.database,
        DJANGO_SETTINGS_MODULE="config.settings",
        STATICFILES_MANIFEST="0",
        LOG_LEVEL="WARNING",
        CACHE_KEY_PREFIX="bench-checkout",
        SIGNUP_THROTTLE_RATE="1000000/hour",
        AUTH_THROTTLE_RATE="1000000/hour",
        # Order notifications go to a queue of the bench's own, deleted at the end: no worker runs here.
        CELERY_TASK_DEFAULT_QUEUE=queue,
    )
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django

    django.setup()
    from django.conf import settings

    slug, schema, store_token = sign_up_store()
    root_host = settings.PLATFORM_DOMAIN
    host = f"{slug}.{root_host}"
    port = free_port()
    # The server's log (every 409 is a warning line, a 500 a traceback) goes to a file, read at the end.
    server_log = Path(tempfile.gettempdir()) / f"bench-checkout-{os.getpid()}.log"
    server = start_gunicorn(
        "config.settings",
        port,
        args.workers,
        {
            "GUNICORN_THREADS": str(args.threads),
            "GUNICORN_KEEPALIVE": "120",
            "GUNICORN_TIMEOUT": "120",
            "GUNICORN_CMD_ARGS": f"--capture-output --error-logfile {server_log}",
        },
    )
    failures: list[str] = []
    try:
        wait_until_ready(port, server)
        started = time.perf_counter()
        race_product, products = create_products(port, host, store_token, args.products, args.race_stock)
        racers = sign_up_buyers(port, root_host, 0, args.race_buyers)
        shoppers = sign_up_buyers(port, root_host, args.race_buyers, args.buyers)
        print(
            f"  {args.products + 1} products, {args.race_buyers + args.buyers} buyers over the API "
            f"in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )

        started = time.perf_counter()
        answers = race(port, host, racers, race_product)
        race_seconds = time.perf_counter() - started
        told, problems = race_answers_problems(answers)
        found = race_in_database(url, schema, race_product, [buyer_id for buyer_id, _ in racers])
        oversold = max(0, found["units"] - args.race_stock, -found["stock_left"])
        print(
            f"race: {args.race_buyers} buyers x 2 requests for {args.race_stock} units in {race_seconds:.1f}s; "
            f"answers {dict(sorted(told.items()))}; in the store: {found['orders']} orders, {found['units']} units, "
            f"{found['keys_recorded']} keys recorded, stock left {found['stock_left']}",
            flush=True,
        )
        answered = sum(any(a.status == 201 and not a.replayed for a in got) for got in answers.values())
        if answered != found["orders"]:
            problems.append(f"{answered} buyers were told of an order, the store holds {found['orders']}")
        failures += [f"race {problem}" for problem in problems]

        checkouts, mixed_problems, seconds, units = mixed_run(port, host, shoppers, products, args.duration, args.seed)
        placed = sum(a.status == 201 for a in checkouts)
        latencies = [a.ms for a in checkouts]
        rps = placed / seconds
        p95 = percentile(latencies, 0.95)
        orders_db, units_db, allocated = mixed_in_database(url, schema, [b for b, _ in shoppers], products)
        print(
            f"mixed: {args.buyers} buyers, {args.products} products, {seconds:.1f}s: {placed} checkouts placed "
            f"({len(checkouts)} sent), {units} units; checkout p50_ms={statistics.median(latencies):.1f} "
            f"p95_ms={p95:.1f} max_ms={max(latencies):.1f}; in the store: {orders_db} orders, {units_db} units, "
            f"{allocated} allocated",
            flush=True,
        )
        if (orders_db, units_db, allocated) != (placed, units, units):
            mixed_problems.append(f"answered {placed} orders of {units} units; the store holds {orders_db}/{units_db}")
        failures += [f"mixed {problem}" for problem in mixed_problems]
    finally:
        stop(server)
        delete_queue(os.environ.get("CELERY_BROKER_URL", ""), queue)

    if found["orders"] != args.race_stock:
        failures.append(f"race made {found['orders']} orders for {args.race_stock} units")
    if oversold or found["duplicates"]:
        failures.append(f"race oversold {oversold} units and duplicated {found['duplicates']} orders")
    report_server_errors(server_log)
    for failure in failures[:20]:
        print(f"FAILED {failure}", file=sys.stderr)
    kind = "gthread" if args.threads > 1 else "sync"
    print(f"gunicorn: {args.workers} {kind} workers x {args.threads} threads on 127.0.0.1")
    print(
        f"reproduce: make bench-checkout BENCH_ARGS='--race-buyers {args.race_buyers} --race-stock {args.race_stock} "
        f"--products {args.products} --buyers {args.buyers} --duration {args.duration:g} "
        f"--workers {args.workers} --threads {args.threads} --database {args.database}'"
    )
    print(
        f"checkout orders={found['orders']} stock_left={found['stock_left']} oversold={oversold} "
        f"duplicates={found['duplicates']} rps={rps:.1f} p95_ms={p95:.1f}"
    )
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
