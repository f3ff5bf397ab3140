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

-- A site as the map lists it, with the original app's field names, from its
-- columns, its distance (null: the distance fields are null), whether it is
-- open and its day_spans at the moment. One expression, and STABLE as
-- json_build_object is (as are || and to_jsonb in the functions it calls),
-- so that PostgreSQL inlines it and them into the caller's query instead of
-- running a function per row. The spans come computed, once per site: inlined,
-- day_spans would run once for each of the three fields it feeds.
CREATE FUNCTION location.summary(id bigint, name text, source text, details jsonb, latitude double precision,
                                 longitude double precision, store_category text, pickup_categories text[],
                                 distance_m double precision, is_open boolean, spans jsonb) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
RETURN json_build_object(
    'id', id, 'name', name, 'source', source, 'road_address', details ->> 'road_address',
    'latitude', latitude, 'longitude', longitude,
    'distance_m', round(distance_m)::bigint,
    'distance_km', round((distance_m / 1000)::numeric, 3),
    'distance_text', location.distance_text(distance_m),
    'store_category', store_category, 'pickup_categories', pickup_categories,
    'is_open', is_open,
    'is_holiday', spans = '[]', 'start_time', spans -> 0 ->> 0, 'end_time', spans -> -1 ->> 1,
    'phone', details ->> 'phone', 'collection_items', coalesce(details -> 'collection_items', '[]'));

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
--
-- The centre is (SELECT ll_to_earth(lat, lon)): an InitPlan, computed once
-- per call, where the bare expression is computed again for every row at
-- each place it is written. Only the columns the page shows travel through
-- the CTEs, not the row; a site's distance is sec_to_gc of its order key (as
-- earth_distance is of cube_distance, which <-> is), and its spans are
-- computed once, for the page's sites alone.
CREATE FUNCTION location.nearby(
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
               ll_to_earth(s.latitude, s.longitude) <-> (SELECT ll_to_earth(lat, lon)) AS key
          FROM location.sites s
         WHERE earth_box((SELECT ll_to_earth(lat, lon)), radius) @> ll_to_earth(s.latitude, s.longitude)
           AND earth_distance((SELECT ll_to_earth(lat, lon)), ll_to_earth(s.latitude, s.longitude)) <= radius
           AND (stores IS NULL OR s.store_category = ANY(stores))
           AND (pickups IS NULL OR s.pickup_categories && pickups)
           AND (NOT open_now
                OR location.open_at(s.week_hours, s.holiday_hours, holiday, minute, cycle_minute) IS TRUE)
           AND (after_key IS NULL
                OR ll_to_earth(s.latitude, s.longitude) <-> (SELECT ll_to_earth(lat, lon)) > after_key
                OR (ll_to_earth(s.latitude, s.longitude) <-> (SELECT ll_to_earth(lat, lon)) = after_key
                    AND NOT s.id = ANY(after_ids)))
         ORDER BY ll_to_earth(s.latitude, s.longitude) <-> (SELECT ll_to_earth(lat, lon))
         LIMIT page_size + 1
    ), page AS (
        SELECT h.*, sec_to_gc(h.key) AS distance_m,
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
