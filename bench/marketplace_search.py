"""Marketplace search benchmark: the real search (GET /api/v1/marketplace/search through the middleware,
DRF and `selectors.search_listings`) over 200,000 listings of 1,000 stores spread over northern England.

    make bench-marketplace                                   # full run (own database, recreated)
    make bench-marketplace BENCH_ARGS="--listings 20000 --queries 100"   # quick look

Listings are written straight into the public index with COPY and one INSERT ... SELECT that builds
the weighted tsvector exactly as `services.publish_listings` does; the vocabulary table is filled from
them the same way. Queries mix one- and two-word searches, misspellings, a place (`near`), a
distance filter and a category, as buyers would. The last line is:
    marketplace search p50_ms=<x> listings=<n>
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet import database_url_for, recreate_database  # noqa: E402

# What small local sellers list, by category: ~230 product words, ~70 describing words.
PRODUCTS = {
    "bakery": "loaf sourdough rye baguette bagel brioche croissant scone parkin flapjack brownie cake tart pie pasty "
    "biscuit shortbread muffin bun focaccia ciabatta crumpet pikelet teacake gingerbread stollen panettone "
    "macaron eclair doughnut pretzel",
    "pantry": "cheddar wensleydale stilton cheese chutney jam marmalade honey pickle relish mustard oil vinegar "
    "granola coffee tea gin cider ale sausage bacon ham eggs butter yoghurt fudge toffee chocolate "
    "curd salt pesto",
    "pottery": "mug bowl vase plate jug teapot cup saucer planter dish platter pitcher tumbler beaker "
    "butterdish eggcup ramekin casserole colander",
    "textiles": "scarf hat blanket cushion throw shawl mittens gloves socks jumper cardigan beanie snood rug "
    "quilt towel apron tote napkin tablecloth runner pouch",
    "jewellery": "necklace ring earrings bracelet pendant brooch bangle cufflinks anklet chain locket "
    "studs hoops charm",
    "homeware": "candle soap lamp mirror frame clock coaster basket doorstop wreath diffuser lantern "
    "hook rack tray vessel bunting",
    "woodwork": "spoon board stool chair table shelf bench box spatula ladle trivet bowl peg mallet dibber",
    "stationery": "card notebook print journal calendar envelope postcard poster bookmark sketchbook wrap tag planner",
    "garden": "seeds bulbs compost birdhouse feeder trug herbs succulent cactus bonsai fern "
    "lavender rosemary tomato chilli",
    "toys": "teddy puzzle kite doll blocks rattle mobile puppet boat train dinosaur",
}
DESCRIBING = (
    "handmade rustic organic vintage small large blue green red grey hand-thrown glazed seeded smoked "
    "farmhouse artisan local wild heritage knitted woven carved oak walnut ash cherry copper brass silver "
    "gold linen wool cotton tweed leather stoneware porcelain earthenware speckled striped floral "
    "scented unscented vegan gluten-free raw mature creamy crumbly spiced sweet salted"
).split()
PHRASES = (
    "made by hand in our workshop",
    "each one is a little different",
    "sent in recycled packaging",
    "a lovely gift",
    "from our family farm",
    "small batch",
    "collect from the market stall on saturdays",
    "made to order within a week",
    "care instructions included",
)
WORD_CATEGORY = {word: category for category, words in PRODUCTS.items() for word in words.split()}
NOUNS = sorted(WORD_CATEGORY)
CATEGORIES = tuple(PRODUCTS)
MISSPELT = {
    "cheddar": "chedar",
    "sourdough": "sourdogh",
    "necklace": "neckalce",
    "blanket": "blankit",
    "candle": "candel",
    "teapot": "teapott",
    "chutney": "chutny",
    "bracelet": "braclet",
    "cardigan": "cardigun",
    "lavender": "lavendar",
    "marmalade": "marmelade",
    "earrings": "earings",
}


def listing_words(rng: random.Random) -> tuple[str, str, str, str]:
    """(title, description, tags, category) of one made-up but plausible listing."""
    category = rng.choice(CATEGORIES)
    nouns = PRODUCTS[category].split()
    noun = rng.choice(nouns)
    title = f"{rng.choice(DESCRIBING).capitalize()} {rng.choice(DESCRIBING)} {noun}"
    if rng.random() < 0.3:
        title += f" and {rng.choice(nouns)}"
    description = (
        f"{title}. {rng.choice(PHRASES).capitalize()}, {rng.choice(PHRASES)}. Goes well with our {rng.choice(nouns)}."
    )
    return title, description, " ".join(rng.sample(DESCRIBING, 2)), category


_INSERT = """
INSERT INTO marketplace_listing (tenant_id, product_id, title, description, tags, labels, category_name,
    category_slug, price, currency, product_path, seller_town, lat, lon, source_version, is_listed,
    store_is_live, search_vector, published_at)
SELECT s.tenant_id, s.product_id, s.title, s.description, string_to_array(s.tags, ' '), '{}', s.category,
       s.category, s.price, 'GBP', '/products/' || s.product_id || '/', s.town, s.lat, s.lon, 1, true, true,
       setweight(to_tsvector('english', s.title), 'A')
       || setweight(to_tsvector('english', concat_ws(' ', s.tags, s.category)), 'B')
       || setweight(to_tsvector('english', s.description), 'C'),
       now()
  FROM bench_listing_stage s
"""

_WORDS = """
INSERT INTO marketplace_listingword (word)
SELECT DISTINCT w FROM marketplace_listing l,
       regexp_split_to_table(lower(concat_ws(' ', l.title, array_to_string(l.tags, ' '), l.category_name)),
                             '[^[:alnum:]]+') AS w
 WHERE length(w) BETWEEN 3 AND 40
ON CONFLICT DO NOTHING
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def seed(listings: int, stores: int, rng: random.Random) -> None:
    from django.db import connection

    from storefront.marketplace.models import Place
    from tenants.models import Tenant

    places = list(Place.objects.filter(kind="town").values_list("name", "lat", "lon"))
    tenants = Tenant.objects.bulk_create(
        Tenant(
            schema_name=f"t_mkt{n:05d}",
            slug=f"mkt{n:05d}",
            name=f"Market Store {n}",
            owner_email=f"owner{n}@bench.example.com",
            town="",
            postcode="",
        )
        for n in range(stores)
    )
    homes = {tenant.pk: rng.choice(places) for tenant in tenants}
    buffer = io.StringIO()
    for n in range(listings):
        tenant = tenants[n % stores]
        town, lat, lon = homes[tenant.pk]
        title, description, tags, category = listing_words(rng)
        row = (
            tenant.pk,
            n + 1,
            title,
            description,
            tags,
            category,
            rng.randint(100, 20000),
            town,
            lat + rng.uniform(-0.02, 0.02),
            lon + rng.uniform(-0.03, 0.03),
        )
        buffer.write("\t".join(str(value) for value in row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_listing_stage (tenant_id bigint, product_id bigint, title text, description text,"
            " tags text, category text, price bigint, town text, lat float8, lon float8)"
        )
        cursor.cursor.copy_expert("COPY bench_listing_stage FROM STDIN", buffer)
        cursor.execute(_INSERT)
        cursor.execute(_WORDS)
        cursor.execute("DROP TABLE bench_listing_stage")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE marketplace_listing")
        cursor.execute("VACUUM ANALYZE marketplace_listingword")


def query_mix(count: int, rng: random.Random) -> list[dict[str, str]]:
    from storefront.marketplace.models import Place

    towns = list(Place.objects.values_list("name", flat=True))
    mix = []
    for _ in range(count):
        words = [rng.choice(NOUNS)] if rng.random() < 0.6 else [rng.choice(DESCRIBING), rng.choice(NOUNS)]
        if rng.random() < 0.2:
            words = [MISSPELT.get(word, word) for word in words]
            words[-1] = MISSPELT[rng.choice(list(MISSPELT))]
        params = {"q": " ".join(words)}
        roll = rng.random()
        if roll < 0.5:
            params["near"] = rng.choice(towns)
        if roll < 0.15:
            params["within_km"] = str(rng.choice((10, 25, 50)))
        if rng.random() < 0.1:
            params["category"] = rng.choice(CATEGORIES)
        mix.append(params)
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=200_000)
    parser.add_argument("--stores", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=400, help="timed searches (after a warm-up)")
    parser.add_argument("--database", default="lb_bench_marketplace", help="recreated for the run")
    args = parser.parse_args()

    url = database_url_for(args.database)
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STATICFILES_MANIFEST", "0")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    rng = random.Random(42)
    print(f"bench database {args.database}: migrating public", file=sys.stderr)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    started = time.perf_counter()
    seed(args.listings, args.stores, rng)
    print(
        f"seeded {args.listings} listings of {args.stores} stores in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )

    client = Client(HTTP_HOST=os.environ.get("PLATFORM_DOMAIN", "localhost"))
    warm_up, timed = query_mix(50, rng), query_mix(args.queries, rng)
    for params in warm_up:
        assert client.get("/api/v1/marketplace/search", params).status_code == 200
    samples: dict[str, list[float]] = {"all": [], "near": [], "no place": [], "misspelt": []}
    hits = 0
    for params in timed:
        began = time.perf_counter()
        response = client.get("/api/v1/marketplace/search", params)
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content
        hits += response.json()["count"] > 0
        samples["all"].append(elapsed)
        samples["near" if "near" in params else "no place"].append(elapsed)
        if any(word in MISSPELT.values() for word in params["q"].split()):
            samples["misspelt"].append(elapsed)
    for name, values in samples.items():
        if values:
            print(
                f"  {name:9} n={len(values):4} p50={statistics.median(values):6.1f} ms "
                f"p95={percentile(values, 0.95):6.1f} ms",
                file=sys.stderr,
            )
    print(f"  {hits}/{len(timed)} searches found something", file=sys.stderr)
    print(
        f"reproduce: make bench-marketplace BENCH_ARGS='--listings {args.listings} --database {args.database}'",
        file=sys.stderr,
    )
    print(f"marketplace search p50_ms={statistics.median(samples['all']):.1f} listings={args.listings}")


if __name__ == "__main__":
    main()
