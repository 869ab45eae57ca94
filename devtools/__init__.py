"""Tools for a developer's machine: `make dev`'s runner, the embedded PostgreSQL helper and the demo data.
An installed app only for its `seed_demo` command; nothing in the product imports it."""
