-- location: collection points and zero-waste shops, loaded from the shipped
-- dataset (platform/eco2/data/locations/sites.jsonl) by eco2.location.sites:sync.
--
-- Distances use earthdistance on cube: ll_to_earth() is a point on a sphere in
-- metres, a GiST index on it answers "within this box" and "nearest first"
-- (the cube <-> operator, whose chord distance orders exactly as the great
-- circle does), so no query reads the whole table.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

CREATE TABLE location.sites (
    id                bigint PRIMARY KEY,
    source            text NOT NULL CHECK (source IN ('keco', 'zerowaste')),
    source_pk         text NOT NULL,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    latitude          double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude         double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    store_category    text NOT NULL CHECK (store_category IN (
                          'refill_zero', 'cafe_bakery', 'vegan_dining', 'upcycle_recycle', 'book_workshop',
                          'market_mart', 'lodging', 'public_dropbox', 'general')),
    pickup_categories text[] NOT NULL CHECK (
                          cardinality(pickup_categories) > 0 AND pickup_categories <@ ARRAY[
                          'clear_pet', 'colored_pet', 'can', 'paper', 'plastic', 'glass', 'textile',
                          'electronics', 'battery', 'general']),
    -- Open minutes of a five-week cycle (occurrence of the weekday in the month,
    -- weekday, minute; see eco2.location.hours); NULL when the hours are unknown.
    week_hours        int4multirange,
    -- Open minutes of a public holiday; NULL: as on that weekday.
    holiday_hours     int4multirange,
    -- Everything the detail view shows: addresses, hours text, phone, ...
    details           jsonb NOT NULL,
    UNIQUE (source, source_pk)
);

CREATE INDEX sites_earth_idx ON location.sites USING gist (ll_to_earth(latitude, longitude));
