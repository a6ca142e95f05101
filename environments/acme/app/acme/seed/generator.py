"""Deterministic seed data.

Everything derives from one ``random.Random(seed)`` and a fixed base date, so
the same seed always yields byte-identical rows — tests, load tests and
incident reproductions can all rely on "user 42" meaning the same person.
Rows are plain dicts ready for bulk Core inserts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from acme.common.security import DEFAULT_HASH_COST, hash_password
from acme.common.textsearch import boost_for, build_document
from acme.models.ops import DEFAULT_STORE_SETTINGS

BASE_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SEED_PASSWORD = "acme-customer-pw"
ADMIN_EMAIL = "admin@acme.test"
ADMIN_PASSWORD = "acme-admin-pw"


# category slug -> (display name, price range in cents, nouns)
CATEGORIES: list[tuple[str, str, tuple[int, int], list[str]]] = [
    ("kitchen", "Kitchen & Dining", (899, 24999),
     ["Chef's Knife", "Dutch Oven", "Cutting Board", "Pour-Over Kettle", "Skillet", "Mixing Bowl Set",
      "Spice Grinder", "Salad Spinner", "French Press", "Sheet Pan", "Knife Block", "Tea Infuser"]),
    ("home", "Home & Living", (999, 39999),
     ["Throw Blanket", "Table Lamp", "Linen Duvet", "Wall Clock", "Planter", "Bath Towel Set",
      "Candle", "Storage Basket", "Area Rug", "Mirror", "Pillow Cover", "Bookend Pair"]),
    ("outdoor", "Outdoor & Camping", (1299, 49999),
     ["Tent", "Sleeping Bag", "Headlamp", "Camp Stove", "Trekking Poles", "Daypack",
      "Water Filter", "Hammock", "Cooler", "Camp Chair", "Rain Shell", "Trail Map Case"]),
    ("electronics", "Electronics", (1499, 89999),
     ["USB-C Charger", "Power Bank", "Smart Plug", "Webcam", "Mechanical Keyboard", "Wireless Mouse",
      "Monitor Arm", "Portable SSD", "E-Reader Case", "Desk Charger", "HDMI Switch", "Smart Bulb"]),
    ("audio", "Audio", (1999, 59999),
     ["Wireless Earbuds", "Bookshelf Speakers", "Over-Ear Headphones", "Turntable", "Soundbar",
      "DAC Amplifier", "Bluetooth Speaker", "Studio Monitors", "Microphone", "Headphone Stand"]),
    ("office", "Office", (499, 69999),
     ["Notebook", "Fountain Pen", "Desk Organizer", "Ergonomic Chair", "Standing Desk Mat",
      "Desk Lamp", "Planner", "Document Tray", "Monitor Stand", "Whiteboard"]),
    ("fitness", "Fitness", (999, 44999),
     ["Yoga Mat", "Kettlebell", "Resistance Bands", "Foam Roller", "Jump Rope", "Dumbbell Set",
      "Pull-Up Bar", "Gym Bag", "Water Bottle", "Ab Wheel"]),
    ("apparel", "Apparel", (1499, 24999),
     ["Merino Tee", "Flannel Shirt", "Hoodie", "Chino Pants", "Rain Jacket", "Wool Socks",
      "Beanie", "Fleece Vest", "Denim Jacket", "Baseball Cap", "Puffer Jacket"]),
    ("footwear", "Footwear", (2999, 27999),
     ["Trail Runner", "Leather Boot", "Canvas Sneaker", "Slide Sandal", "Hiking Boot",
      "Running Shoe", "House Slipper", "Chelsea Boot"]),
    ("toys", "Toys & Games", (699, 14999),
     ["Board Game", "Puzzle", "Building Set", "Card Game", "Plush Bear", "Kite", "Marble Run",
      "Wooden Train Set"]),
    ("beauty", "Beauty & Care", (599, 12999),
     ["Face Serum", "Hand Cream", "Shampoo Bar", "Beard Oil", "Lip Balm Set", "Body Wash",
      "Sunscreen", "Hair Dryer"]),
    ("pets", "Pet Supplies", (599, 19999),
     ["Dog Leash", "Cat Tree", "Pet Bed", "Chew Toy", "Food Bowl", "Grooming Brush",
      "Travel Crate", "Treat Pouch"]),
]

BRANDS = ["Northwind", "Fjordline", "Copperleaf", "Alder & Oak", "Brightwater", "Kestrel",
          "Lumen", "Stonecrest", "Bluebird", "Harbor", "Summit", "Ironbark", "Meadow", "Tidal",
          "Juniper", "Quarry", "Halcyon", "Redwood", "Vela", "Ember"]
ADJECTIVES = ["Classic", "Compact", "Everyday", "Pro", "Ultralight", "Heritage", "Modern",
              "Essential", "Deluxe", "Travel", "Organic", "Recycled", "Heavy-Duty", "Slim",
              "Signature", "Field", "Studio", "Coastal", "Alpine", "Urban"]
COLORS = ["Charcoal", "Sage", "Navy", "Sand", "Rust", "Ivory", "Forest", "Slate", "Oat", "Black"]
FEATURES = ["built to last for years of daily use", "designed with feedback from thousands of customers",
            "backed by our two-year warranty", "made from responsibly sourced materials",
            "easy to clean and simple to store", "tested in real-world conditions",
            "a customer favourite since launch", "thoughtfully packaged with zero plastic"]

FIRST_NAMES = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella",
               "James", "Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry",
               "Abigail", "Theodore", "Emily", "Jack", "Ella", "Levi", "Chloe", "Mateo", "Priya",
               "Wei", "Aisha", "Diego", "Yuki", "Fatima", "Sven", "Ingrid", "Kofi", "Lena", "Omar",
               "Zara", "Hiro", "Nadia", "Rafael", "Anika", "Tomasz", "Chiara", "Sean", "Maya"]
LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
              "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
              "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris",
              "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "Nguyen", "Patel", "Kim",
              "Chen", "Okafor", "Schmidt", "Rossi", "Novak", "Larsen", "Tanaka", "Silva", "Cohen"]
STREETS = ["Maple Ave", "Oak St", "Cedar Ln", "Pine Rd", "Elm St", "Harbor Way", "Mill Rd",
           "Sunset Blvd", "Lakeview Dr", "Ridge Ct", "Willow Way", "Park Pl"]
CITIES = [("Portland", "OR", "97201"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
          ("Madison", "WI", "53703"), ("Raleigh", "NC", "27601"), ("Boise", "ID", "83702"),
          ("Burlington", "VT", "05401"), ("Tucson", "AZ", "85701"), ("Columbus", "OH", "43215"),
          ("Sacramento", "CA", "95814"), ("Richmond", "VA", "23219"), ("Omaha", "NE", "68102")]

REVIEW_TITLES = {
    5: ["Absolutely love it", "Exceeded expectations", "Best purchase this year", "Five stars"],
    4: ["Really good", "Solid choice", "Happy with it", "Great value"],
    3: ["It's okay", "Does the job", "Mixed feelings", "Average"],
    2: ["Not great", "Expected more", "Disappointing finish"],
    1: ["Broke quickly", "Would not buy again", "Returned it"],
}
REVIEW_BODIES = {
    5: ["Quality is outstanding and it arrived quickly.", "Use it every day, no complaints at all.",
        "Bought a second one as a gift."],
    4: ["Works well, minor nitpicks with the packaging.", "Good quality for the price.",
        "Does what it says, would recommend."],
    3: ["Fine for occasional use.", "Smaller than the photos suggest.", "Decent but not special."],
    2: ["Stopped working properly after a month.", "Material feels cheaper than expected."],
    1: ["Arrived damaged and support was slow.", "Did not work out of the box."],
}


@dataclass
class SeedData:
    """All generated rows, keyed by table name, in foreign-key order."""

    seed: int
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


def _ts(offset_seconds: int) -> dt.datetime:
    return BASE_DATE + dt.timedelta(seconds=offset_seconds)


def _price(rng: random.Random, low: int, high: int) -> int:
    dollars = int(low / 100 + (high - low) / 100 * rng.random() ** 2.2)
    return max(low, dollars * 100 + rng.choice((99, 99, 95, 49, 0)))


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(filter(None, out.split("-")))


def seeded_password_hash(seed: int, password: str = SEED_PASSWORD, cost: int = DEFAULT_HASH_COST) -> str:
    """One scrypt hash per seed, shared by all seeded customers (loading stays fast)."""
    salt = hashlib.sha256(f"acme-seed-{seed}-{password}".encode()).digest()[:16]
    return hash_password(password, salt=salt, cost=cost)


def user_email(first: str, last: str, user_id: int) -> str:
    return f"{first}.{last}.{user_id}@example.com".lower()


def generate(
    seed: int,
    *,
    users: int = 2000,
    products: int = 500,
    orders: int = 10_000,
    carts: int = 300,
    reviews: int = 4000,
    password_cost: int = DEFAULT_HASH_COST,
) -> SeedData:
    """Build every table's rows from ``seed``; no wall clock, no global randomness."""
    rng = random.Random(seed)
    data = SeedData(seed=seed)
    t = data.tables

    t["categories"] = [
        {"id": i, "slug": slug, "name": name} for i, (slug, name, _r, _n) in enumerate(CATEGORIES, 1)
    ]

    # Users: id 1 is the store admin; customers joined during the two years before BASE_DATE.
    customer_hash = seeded_password_hash(seed, cost=password_cost)
    t["users"] = [{
        "id": 1, "email": ADMIN_EMAIL, "name": "Store Admin",
        "password_hash": seeded_password_hash(seed, ADMIN_PASSWORD, password_cost), "is_admin": True,
        "created_at": _ts(-730 * 86400), "last_login_at": None,
    }]
    names: dict[int, tuple[str, str]] = {}
    for uid in range(2, users + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        names[uid] = (first, last)
        t["users"].append({
            "id": uid, "email": user_email(first, last, uid), "name": f"{first} {last}",
            "password_hash": customer_hash, "is_admin": False,
            "created_at": _ts(-rng.randint(30 * 86400, 729 * 86400)), "last_login_at": None,
        })

    # Products.
    t["products"] = []
    slugs: set[str] = set()
    for pid in range(1, products + 1):
        cat_index = rng.randrange(len(CATEGORIES))
        slug_c, cat_name, (low, high), nouns = CATEGORIES[cat_index]
        noun = rng.choice(nouns)
        name = f"{rng.choice(BRANDS)} {rng.choice(ADJECTIVES)} {noun}"
        if rng.random() < 0.35:
            name += f" — {rng.choice(COLORS)}"
        slug = _slug(name)
        if slug in slugs:
            slug = f"{slug}-{pid}"
        slugs.add(slug)
        sku = f"AC-{slug_c[:3].upper()}-{pid:05d}"
        description = (
            f"The {name} is {rng.choice(FEATURES)}. "
            f"Part of our {cat_name.lower()} range, {rng.choice(FEATURES)}."
        )
        created = _ts(-rng.randint(60 * 86400, 900 * 86400))
        t["products"].append({
            "id": pid, "sku": sku, "slug": slug, "name": name, "description": description,
            "category_id": cat_index + 1, "price_cents": _price(rng, low, high), "currency": "USD",
            "stock": 0 if rng.random() < 0.04 else rng.randint(3, 400),
            "is_active": rng.random() >= 0.03, "rating_avg": 0.0, "rating_count": 0,
            "created_at": created, "updated_at": created,
        })
    product_by_id = {p["id"]: p for p in t["products"]}
    # Popularity follows a long tail: a few products sell far more than the rest.
    popularity = [1.0 / (rank ** 0.8) for rank in range(1, products + 1)]
    ranked_ids = list(range(1, products + 1))
    rng.shuffle(ranked_ids)
    # Cumulative weights make each weighted pick O(log n) instead of O(n).
    product_cum = list(itertools.accumulate(popularity))

    # Reviews: unique (product, user) pairs, ratings skewed positive.
    t["reviews"] = []
    pairs: set[tuple[int, int]] = set()
    review_id = 0
    rating_totals: dict[int, list[int]] = {}
    customer_ids = list(range(2, users + 1))
    while review_id < reviews and customer_ids:
        pid = rng.choices(ranked_ids, cum_weights=product_cum)[0]
        uid = rng.choice(customer_ids)
        if (pid, uid) in pairs:
            continue
        pairs.add((pid, uid))
        review_id += 1
        rating = rng.choices((5, 4, 3, 2, 1), weights=(45, 30, 12, 7, 6))[0]
        t["reviews"].append({
            "id": review_id, "product_id": pid, "user_id": uid, "rating": rating,
            "title": rng.choice(REVIEW_TITLES[rating]), "body": rng.choice(REVIEW_BODIES[rating]),
            "created_at": _ts(-rng.randint(86400, 360 * 86400)),
        })
        rating_totals.setdefault(pid, []).append(rating)
    for pid, ratings in rating_totals.items():
        product_by_id[pid]["rating_avg"] = round(sum(ratings) / len(ratings), 2)
        product_by_id[pid]["rating_count"] = len(ratings)

    cat_names = {c["id"]: c["name"] for c in t["categories"]}
    t["search_documents"] = [{
        "product_id": p["id"],
        "document": build_document(p["name"], cat_names[p["category_id"]], p["description"], p["sku"]),
        "boost": boost_for(p["rating_avg"], p["rating_count"]),
        "updated_at": BASE_DATE,
    } for p in t["products"]]

    # Orders over the year before BASE_DATE; recent ones are still "paid", older ones shipped.
    settings = DEFAULT_STORE_SETTINGS
    t["orders"], t["order_items"], t["refunds"] = [], [], []
    buyer_cum = list(itertools.accumulate(rng.paretovariate(1.5) for _ in customer_ids))
    item_id = 0
    for oid in range(1, orders + 1):
        uid = rng.choices(customer_ids, cum_weights=buyer_cum)[0]
        created = _ts(-rng.randint(3600, 365 * 86400))
        chosen: list[int] = []
        for _ in range(rng.choices((1, 2, 3, 4), weights=(50, 28, 14, 8))[0]):
            pid = rng.choices(ranked_ids, cum_weights=product_cum)[0]
            if pid not in chosen:
                chosen.append(pid)
        subtotal = 0
        for pid in chosen:
            qty = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
            price = product_by_id[pid]["price_cents"]
            subtotal += qty * price
            item_id += 1
            t["order_items"].append({
                "id": item_id, "order_id": oid, "product_id": pid,
                "product_name": product_by_id[pid]["name"], "quantity": qty,
                "unit_price_cents": price,
            })
        shipping = 0 if subtotal >= settings["free_shipping_threshold_cents"] else settings["flat_shipping_cents"]
        tax = (subtotal * settings["tax_rate_bps"] + 5000) // 10000
        total = subtotal + shipping + tax
        age_days = (BASE_DATE - created).days
        roll = rng.random()
        refunded = 0
        failure = None
        charge: str | None = f"ch_{rng.getrandbits(64):016x}"
        if roll < 0.03:
            status, charge = "payment_failed", None
            failure = rng.choice(("card_declined", "insufficient_funds", "expired_card"))
        elif roll < 0.04:
            status = "cancelled"
        elif roll < 0.07:
            status, refunded = "refunded", total
        elif age_days > 3:
            status = "shipped"
        else:
            status = "paid"
        first, last = names[uid]
        city, state, zipcode = rng.choice(CITIES)
        t["orders"].append({
            "id": oid, "user_id": uid, "status": status, "subtotal_cents": subtotal,
            "shipping_cents": shipping, "tax_cents": tax, "total_cents": total,
            "refunded_cents": refunded, "currency": "USD", "payment_charge_id": charge,
            "failure_reason": failure, "idempotency_key": None,
            "shipping_name": f"{first} {last}",
            "shipping_address": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}, {city}, {state} {zipcode}",
            "created_at": created, "updated_at": created,
        })
        if refunded:
            t["refunds"].append({
                "id": len(t["refunds"]) + 1, "order_id": oid, "amount_cents": refunded,
                "reason": rng.choice(("customer request", "item damaged", "late delivery")),
                "status": "succeeded", "processor_refund_id": f"re_{rng.getrandbits(64):016x}",
                "created_by": 1, "created_at": created + dt.timedelta(days=rng.randint(1, 20)),
            })

    # Saved carts for a slice of customers.
    t["carts"], t["cart_items"] = [], []
    for cid, uid in enumerate(sorted(rng.sample(customer_ids, min(carts, len(customer_ids)))), 1):
        touched = _ts(-rng.randint(3600, 20 * 86400))
        t["carts"].append({"id": cid, "user_id": uid, "created_at": touched,
                           "updated_at": touched, "expires_at": None})
        picked = sorted(set(rng.choices(ranked_ids, cum_weights=product_cum, k=rng.randint(1, 3))))
        for pid in picked:
            t["cart_items"].append({"cart_id": cid, "product_id": pid,
                                    "quantity": rng.randint(1, 3), "added_at": touched})

    t["app_settings"] = [
        {"key": k, "value": v, "updated_at": BASE_DATE, "updated_by": None}
        for k, v in sorted(DEFAULT_STORE_SETTINGS.items())
    ]
    return data
