-- What the PostgreSQL engine needs a superuser for, run once per database
-- (psql -d DB -f scripts/postgres-engine-hardening.sql as a superuser; in
-- template1, every new database inherits it). PostgreSQL 15 lets any role
-- create and write large objects, even inside a READ ONLY transaction; the
-- engine revokes these itself when its user may, and logs a warning when not.
REVOKE EXECUTE ON FUNCTION
  pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer),
  pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text),
  pg_catalog.lo_import(text, oid), pg_catalog.lo_put(oid, bigint, bytea),
  pg_catalog.lowrite(integer, bytea), pg_catalog.lo_truncate(integer, integer),
  pg_catalog.lo_truncate64(integer, bigint), pg_catalog.lo_unlink(oid),
  pg_catalog.lo_export(oid, text)
FROM PUBLIC;
