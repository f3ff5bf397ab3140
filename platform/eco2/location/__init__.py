"""Collection points and zero-waste shops: categories, opening hours, the zoom
table and the site queries (eco2.location.sites, which needs psycopg)."""
