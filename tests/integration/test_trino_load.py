"""`lakegate load` into a Trino lake (docs/trino.md, "Loads"), end to end.

Needs the cluster of the ctest fixture trino.start (scripts/trino.sh):
$LAKEGATE_TEST_TRINO_DIR holds its directory, its URL in `url` and the port
lakegate must listen on in `lakegate-port` (Trino asks that address for
decisions). A demo on the Trino engine serves the decisions; the CLI loads
with the demo's stack file (its state store signs the load's token) and the
rows are read back through the query API.

  - CSV and NDJSON load, with --create and into an existing table, and read
    back with their values and types;
  - a load over 1 MB is all or nothing: one that fails at its last record
    (in lakegate) or in a value Trino refuses (a bad date) leaves the table
    as it was, and no staging table or file behind;
  - a cluster whose lake lakegate cannot write gets the rows by INSERT
    statements into a staging table, published by one rename.
"""
import json
import os
import shutil
import tempfile
import unittest

from harness import Server, request, run_cli

DIR = os.environ.get("LAKEGATE_TEST_TRINO_DIR", "")
SCHEMA = "loads"


def read(name):
    with open(os.path.join(DIR, name)) as f:
        return f.read().strip()


@unittest.skipUnless(DIR and os.path.exists(os.path.join(DIR, "url")),
                     "no Trino cluster (ctest fixture trino.start)")
class TrinoLoadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host_port = read("url").split("://", 1)[1]
        cls.tmp = tempfile.mkdtemp(prefix="lakegate-trino-load-")
        cls.server = Server(["demo", "--dir", cls.tmp, "--port", read("lakegate-port"),
                             "--engine", f"trino://{cls.host_port}?dir={DIR}"],
                            directory=cls.tmp)
        try:
            cls.server.start(timeout=240)
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            for table in cls.tables():
                cls.sql(f"DROP TABLE {SCHEMA}.{table}")
        finally:
            cls.server.cleanup()

    @classmethod
    def sql(cls, statement):
        token = cls.server.access_token("etl-service")
        status, body, _ = request(cls.server.url + "/v1/query", "POST",
                                  json.dumps({"query": statement}).encode(),
                                  {"Authorization": "Bearer " + token,
                                   "Content-Type": "application/json"}, timeout=120)
        body = json.loads(body)
        assert status == 200, (statement, status, body)
        return body

    @classmethod
    def tables(cls):
        body = cls.sql("SELECT table_name FROM lake.information_schema.tables "
                       f"WHERE table_schema = '{SCHEMA}' ORDER BY table_name")
        return [r["table_name"] for r in body["data"]]

    def write(self, name, text):
        path = os.path.join(self.server.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def load(self, target, path, *flags, check=True):
        return run_cli("load", f"{SCHEMA}.{target}", path, *flags,
                       "--config", self.server.stack_file, check=check, timeout=300)

    def count(self, table):
        return self.sql(f"SELECT count(*) AS n FROM {SCHEMA}.{table}")["data"][0]["n"]

    def assertNothingStaged(self):
        self.assertEqual([t for t in self.tables() if t.startswith("lakegate_load_")], [])
        staging = os.path.join(DIR, "lake", "lakegate-staging")
        self.assertEqual(os.listdir(staging) if os.path.isdir(staging) else [], [])

    def test_csv_and_ndjson_load_and_read_back(self):
        csv = self.write("events.csv", 'id,name,score,note\n'
                                       '1,alice,1.5,"a, quoted ""note"""\n'
                                       '2,b\u00f6b,,\n'
                                       '3,carol,7,"two\nlines"\n')
        out = self.load("events", csv, "--create").stdout
        self.assertIn("loaded 3 rows into loads.events (created)", out)
        ndjson = self.write("more.ndjson", '{"id": 4, "name": "dave", "score": 2.25}\n'
                                           '{"id": 5, "note": {"nested": [1, 2]}}\n')
        self.assertIn("loaded 2 rows into loads.events", self.load("events", ndjson).stdout)
        body = self.sql(f"SELECT id, name, score, note FROM {SCHEMA}.events ORDER BY id")
        self.assertEqual([c["type"] for c in body["columns"]],
                         ["INTEGER", "TEXT", "REAL", "TEXT"])
        self.assertEqual(body["data"], [
            {"id": 1, "name": "alice", "score": 1.5, "note": 'a, quoted "note"'},
            {"id": 2, "name": "b\u00f6b", "score": None, "note": None},
            {"id": 3, "name": "carol", "score": 7.0, "note": "two\nlines"},
            {"id": 4, "name": "dave", "score": 2.25, "note": None},
            {"id": 5, "name": None, "score": None, "note": '{"nested":[1,2]}'},
        ])
        # Into a table with types a load never creates: text is cast to the
        # column's type, and a column the file does not name keeps NULL.
        self.sql(f'CREATE TABLE {SCHEMA}.typed (id bigint, day date, amount decimal(10,2), '
                 f'flag boolean, extra row("a b" bigint))')
        typed = self.write("typed.csv", "id,day,amount,flag\n1,2024-02-29,12.50,true\n2,,,\n")
        self.assertIn("loaded 2 rows", self.load("typed", typed).stdout)
        body = self.sql(f"SELECT id, CAST(day AS varchar) AS day, CAST(amount AS varchar) AS amount, "
                        f"flag, extra IS NULL AS no_extra FROM {SCHEMA}.typed ORDER BY id")
        self.assertEqual(body["data"], [
            {"id": 1, "day": "2024-02-29", "amount": "12.50", "flag": 1, "no_extra": 1},
            {"id": 2, "day": None, "amount": None, "flag": None, "no_extra": 1},
        ])
        # A column the table lacks: nothing loads, and the error says which.
        bad = self.write("bad.ndjson", '{"id": 6}\n{"id": 7, "color": "red"}\n')
        proc = self.load("events", bad, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("bad.ndjson:2: column(s) color", proc.stderr)
        self.assertEqual(self.count("events"), 5)
        self.assertNothingStaged()

    def test_large_loads_are_all_or_nothing(self):
        rows = 20000
        lines = [f"{i},member-{i:06d}-{'x' * 30},eu-west,{i * 0.5}" for i in range(rows)]
        big = self.write("big.csv", "id,name,region,score\n" + "\n".join(lines) + "\n")
        self.assertGreater(os.path.getsize(big), 1 << 20)
        self.assertIn(f"loaded {rows} rows", self.load("big", big, "--create").stdout)
        self.assertEqual(self.count("big"), rows)
        # Fails at its last record, after every other row was staged.
        broken = self.write("broken.csv", "id,name,region,score\n" + "\n".join(lines) +
                            "\nnot-a-number,x,y,1\n")
        proc = self.load("big", broken, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(f"broken.csv:{rows + 2}:", proc.stderr)
        self.assertIn("nothing was loaded", proc.stderr)
        self.assertEqual(self.count("big"), rows)
        self.assertNothingStaged()
        # Trino refuses a value half-way through (a bad date in a date column).
        self.sql(f"CREATE TABLE {SCHEMA}.dated (id bigint, day date)")
        dates = [f"{i},2024-01-{1 + i % 28:02d}" for i in range(80000)]
        dates[40000] = "40000,2024-02-30"
        path = self.write("dates.csv", "id,day\n" + "\n".join(dates) + "\n")
        self.assertGreater(os.path.getsize(path), 1 << 20)
        proc = self.load("dated", path, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("2024-02-30", proc.stderr)
        self.assertEqual(self.count("dated"), 0)
        self.assertNothingStaged()
        dates[40000] = "40000,2024-02-29"
        self.write("dates.csv", "id,day\n" + "\n".join(dates) + "\n")
        self.load("dated", path)
        body = self.sql(f"SELECT count(*) AS n, max(day) AS last FROM {SCHEMA}.dated")
        self.assertEqual(body["data"], [{"n": 80000, "last": "2024-02-29"}])

    def test_insert_staging_when_the_lake_is_not_local(self):
        # Only the CA of the cluster: lakegate cannot write its lake directory.
        other = tempfile.mkdtemp(prefix="lakegate-trino-remote-")
        try:
            os.makedirs(os.path.join(other, "tls"))
            shutil.copy(os.path.join(DIR, "tls", "ca.pem"), os.path.join(other, "tls"))
            path = self.write("remote.csv", "id,city\n1,Oslo\n2,\n3,'s-Hertogenbosch\n")
            out = run_cli("load", f"{SCHEMA}.remote", path, "--create", "--engine",
                          f"trino://{self.host_port}?dir={other}", "--config",
                          self.server.stack_file, timeout=300).stdout
            self.assertIn("loaded 3 rows into loads.remote (created)", out)
        finally:
            shutil.rmtree(other, ignore_errors=True)
        body = self.sql(f"SELECT id, city FROM {SCHEMA}.remote ORDER BY id")
        self.assertEqual(body["data"], [{"id": 1, "city": "Oslo"}, {"id": 2, "city": None},
                                        {"id": 3, "city": "'s-Hertogenbosch"}])
        self.assertNothingStaged()


if __name__ == "__main__":
    unittest.main()
