-- location: a site's point on the sphere as a stored column, and location.nearby
-- with no SQL function run per row.
--
-- earthdistance's ll_to_earth (a cast to its earth domain) and sec_to_gc (a
-- strict function with a CASE) are SQL functions PostgreSQL cannot inline:
-- each call is a nested statement. location.nearby called ll_to_earth twice
-- for every site the index walk visited (the distance filter and the order
-- key) and sec_to_gc for every distance, about eight nested statements per
-- site shown. Now the point is computed once, when a row is written; the
-- radius is compared as a chord (gc_to_sec of the radius, once per call, as
-- sec_to_gc is increasing); and the distance is sec_to_gc's own expression for
-- a chord shorter than the diameter (2 × earth()'s 6,378,168 m), written out.
-- The order key is the same cube distance as before, so cursors issued before
-- this migration still page on.

ALTER TABLE location.sites
    ADD COLUMN earth_point earth NOT NULL GENERATED ALWAYS AS (ll_to_earth(latitude, longitude)) STORED;

-- Same name, so that sites.cluster and anything that reads the plan still find it.
DROP INDEX location.sites_earth_idx;
CREATE INDEX sites_earth_idx ON location.sites USING gist (earth_point);
CLUSTER location.sites USING sites_earth_idx;

CREATE OR REPLACE FUNCTION location.nearby(
    lat double precision, lon double precision, radius double precision, page_size int,
    stores text[], pickups text[], open_now boolean, after_key double precision, after_ids bigint[],
    holiday boolean, day text, occurrence int, minute int, cycle_minute int)
RETURNS TABLE (sites text, more boolean, last_key double precision, last_ids bigint[])
LANGUAGE sql STABLE PARALLEL SAFE
SET enable_bitmapscan = off
AS $$
    WITH hits AS (
        SELECT s.id, s.name, s.source, s.details, s.latitude, s.longitude, s.store_category, s.pickup_categories,
               s.week_hours, s.holiday_hours,
               s.earth_point <-> (SELECT ll_to_earth(lat, lon)) AS key
          FROM location.sites s
         WHERE s.earth_point <@ (SELECT earth_box(ll_to_earth(lat, lon), radius))
           AND s.earth_point <-> (SELECT ll_to_earth(lat, lon)) <= (SELECT gc_to_sec(radius))
           AND (stores IS NULL OR s.store_category = ANY(stores))
           AND (pickups IS NULL OR s.pickup_categories && pickups)
           AND (NOT open_now
                OR location.open_at(s.week_hours, s.holiday_hours, holiday, minute, cycle_minute) IS TRUE)
           AND (after_key IS NULL
                OR s.earth_point <-> (SELECT ll_to_earth(lat, lon)) > after_key
                OR (s.earth_point <-> (SELECT ll_to_earth(lat, lon)) = after_key AND NOT s.id = ANY(after_ids)))
         ORDER BY s.earth_point <-> (SELECT ll_to_earth(lat, lon))
         LIMIT page_size + 1
    ), page AS (
        SELECT h.*, 12756336 * asin(h.key / 12756336) AS distance_m,
               location.open_at(h.week_hours, h.holiday_hours, holiday, minute, cycle_minute) AS is_open,
               location.day_spans(h.details -> 'hours', holiday, day, occurrence) AS spans
          FROM hits h ORDER BY h.key, h.id LIMIT page_size
    ), last AS (
        SELECT max(key) AS key FROM page
    )
    SELECT coalesce((SELECT json_agg(location.summary(p.id, p.name, p.source, p.details, p.latitude, p.longitude,
                                                      p.store_category, p.pickup_categories, p.distance_m,
                                                      p.is_open, p.spans) ORDER BY p.key, p.id)
                       FROM page p), '[]')::text,
           (SELECT count(*) FROM hits) > page_size,
           last.key,
           (SELECT array_agg(p.id ORDER BY p.id) FROM page p WHERE p.key = last.key)
      FROM last
$$;
