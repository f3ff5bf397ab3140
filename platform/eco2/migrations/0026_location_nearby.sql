-- location: the nearby search and a site's map summary as SQL functions, so
-- that /centers is one statement and one round trip (no BEGIN, SET LOCAL and
-- COMMIT around it), and its answer is JSON built by PostgreSQL rather than
-- rows decoded and re-encoded by Python. The moment "open now" looks at
-- (eco2.location.hours.Moment) is passed in: holiday, day, occurrence, minute
-- and cycle_minute.

-- Open at that moment: the public-holiday hours on a public holiday when
-- known, else the five-week cycle's; NULL when the hours are unknown.
CREATE FUNCTION location.open_at(week_hours int4multirange, holiday_hours int4multirange, holiday boolean,
                                 minute int, cycle_minute int) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN holiday AND holiday_hours IS NOT NULL THEN holiday_hours @> minute
            ELSE week_hours @> cycle_minute END;

-- "350m" under a kilometre, else "1.2km", as the app shows it.
CREATE FUNCTION location.distance_text(metres double precision) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN round(metres) < 1000 THEN round(metres)::bigint || 'm'
            ELSE round((metres / 1000)::numeric, 1) || 'km' END;

-- The open spans ([["09:00", "18:00"], ...]) that apply on the moment's day,
-- from a site's details->'hours': the public-holiday hours on a public holiday
-- when they are understood, else the weekday's ([] on an occurrence of the
-- weekday it skips); NULL when unknown.
CREATE FUNCTION location.day_spans(hours jsonb, holiday boolean, day text, occurrence int) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN holiday AND jsonb_typeof(hours -> 'holiday' -> 'open') = 'array' THEN hours -> 'holiday' -> 'open'
    WHEN hours -> day IS NULL THEN NULL
    WHEN jsonb_typeof(hours -> day -> 'weeks') = 'array' AND hours -> day -> 'weeks' <> '[]'
         AND NOT hours -> day -> 'weeks' @> to_jsonb(occurrence) THEN '[]'
    WHEN jsonb_typeof(hours -> day -> 'open') = 'array' THEN hours -> day -> 'open'
END;

-- A site as the map lists it, with the original app's field names; the
-- distance fields are null without a distance. One expression, and STABLE
-- as json_build_object is (as are || and to_jsonb in the functions it calls),
-- so that PostgreSQL inlines it and them into the caller's query instead of
-- running a function per row.
CREATE FUNCTION location.summary(s location.sites, distance_m double precision, holiday boolean, day text,
                                 occurrence int, minute int, cycle_minute int) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
RETURN json_build_object(
    'id', s.id, 'name', s.name, 'source', s.source, 'road_address', s.details ->> 'road_address',
    'latitude', s.latitude, 'longitude', s.longitude,
    'distance_m', round(distance_m)::bigint,
    'distance_km', round((distance_m / 1000)::numeric, 3),
    'distance_text', location.distance_text(distance_m),
    'store_category', s.store_category, 'pickup_categories', s.pickup_categories,
    'is_open', location.open_at(s.week_hours, s.holiday_hours, holiday, minute, cycle_minute),
    'is_holiday', location.day_spans(s.details -> 'hours', holiday, day, occurrence) = '[]',
    'start_time', location.day_spans(s.details -> 'hours', holiday, day, occurrence) -> 0 ->> 0,
    'end_time', location.day_spans(s.details -> 'hours', holiday, day, occurrence) -> -1 ->> 1,
    'phone', s.details ->> 'phone', 'collection_items', coalesce(s.details -> 'collection_items', '[]'));

-- Sites around (lat, lon) within radius metres, filtered (a NULL filter keeps
-- all), nearest first: one page of page_size as a JSON array of summaries
-- (ties by id), whether more follow, and the page's last order key with the
-- ids shown at it (the keyset of the next page, which passes them as
-- after_key and after_ids).
--
-- GiST cannot tell the planner how many points a box holds; it guesses few,
-- and would fetch the whole box with a bitmap scan and sort it. Walking the
-- index nearest-first reads only as far as the page needs: the function's own
-- SET turns bitmap scans off for its statement alone, with no transaction.
-- Nearest first by the index alone: a second sort key would make PostgreSQL
-- read and sort the whole box instead, so ties are ordered on the page.
CREATE FUNCTION location.nearby(
    lat double precision, lon double precision, radius double precision, page_size int,
    stores text[], pickups text[], open_now boolean, after_key double precision, after_ids bigint[],
    holiday boolean, day text, occurrence int, minute int, cycle_minute int)
RETURNS TABLE (sites text, more boolean, last_key double precision, last_ids bigint[])
LANGUAGE sql STABLE PARALLEL SAFE
SET enable_bitmapscan = off
AS $$
    WITH hits AS (
        SELECT s, earth_distance(ll_to_earth(lat, lon), ll_to_earth(s.latitude, s.longitude)) AS distance_m,
               ll_to_earth(s.latitude, s.longitude) <-> ll_to_earth(lat, lon) AS key
          FROM location.sites s
         WHERE earth_box(ll_to_earth(lat, lon), radius) @> ll_to_earth(s.latitude, s.longitude)
           AND earth_distance(ll_to_earth(lat, lon), ll_to_earth(s.latitude, s.longitude)) <= radius
           AND (stores IS NULL OR s.store_category = ANY(stores))
           AND (pickups IS NULL OR s.pickup_categories && pickups)
           AND (NOT open_now
                OR location.open_at(s.week_hours, s.holiday_hours, holiday, minute, cycle_minute) IS TRUE)
           AND (after_key IS NULL
                OR ll_to_earth(s.latitude, s.longitude) <-> ll_to_earth(lat, lon) > after_key
                OR (ll_to_earth(s.latitude, s.longitude) <-> ll_to_earth(lat, lon) = after_key
                    AND NOT s.id = ANY(after_ids)))
         ORDER BY ll_to_earth(s.latitude, s.longitude) <-> ll_to_earth(lat, lon)
         LIMIT page_size + 1
    ), page AS (
        SELECT s, distance_m, key FROM hits ORDER BY key, (s).id LIMIT page_size
    ), last AS (
        SELECT max(key) AS key FROM page
    )
    SELECT coalesce((SELECT json_agg(location.summary(p.s, p.distance_m, holiday, day, occurrence, minute,
                                                      cycle_minute) ORDER BY p.key, (p.s).id)
                       FROM page p), '[]')::text,
           (SELECT count(*) FROM hits) > page_size,
           last.key,
           (SELECT array_agg((p.s).id ORDER BY (p.s).id) FROM page p WHERE p.key = last.key)
      FROM last
$$;
