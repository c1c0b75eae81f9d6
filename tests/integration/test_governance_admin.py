"""Integration tests of governance administration: the CLI changes the
versioned policy of a running demo server (no restart), `policy show` and
`policy explain`, `apply` idempotence, the demo's analyst role, and the admin
HTTP API with its admin-scope check."""
import json
import os
import time
import unittest

from harness import Server, request, run_cli
from test_query_api import run_query


def wait_for(predicate, timeout=2.5, step=0.05):
    """Polls `predicate` until it returns a truthy value or `timeout` passes."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(step)


class GovernanceAdminTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.etl = cls.server.access_token("etl-service")        # admin scope, super role
        cls.rep = cls.server.access_token("reporting-service")  # read scope, lf-dev-role
        cls.mon = cls.server.access_token("analytics-service")  # read scope, lf-analyst-role

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def admin_get(self, path, token):
        headers = {"Authorization": "Bearer " + token} if token else {}
        status, data, hdrs = request(self.server.url + path, headers=headers)
        return status, json.loads(data), hdrs

    # ---- the CLI against a running server --------------------------------
    def test_grant_applies_to_new_queries_without_restart(self):
        status, body, _ = run_query(self.server, self.rep, "SELECT email FROM members LIMIT 1")
        self.assertEqual(status, 400, body)
        self.assertIn("no such column: email", body["error"]["message"])

        out = self.server.cli("grant", "lf-dev-role", "SELECT", "--on", "analytics.members",
                              "--columns", "email").stdout
        self.assertRegex(out, r"policy version \d+ -> \d+: role lf-dev-role grants")
        self.assertIn("note: role lf-dev-role is declared in the stack file", out)
        try:
            def sees_email():
                s, b, _ = run_query(self.server, self.rep,
                                    "SELECT email FROM members ORDER BY member_id LIMIT 1")
                return s == 200 and b["data"] == [{"email": "member00001@example.com"}]
            self.assertTrue(wait_for(sees_email), "the grant did not reach the server in time")
        finally:
            out = self.server.cli("revoke", "lf-dev-role", "SELECT", "--on", "analytics.members",
                                  "--columns", "email").stdout
            self.assertIn("role lf-dev-role grants", out)

        def email_gone():
            s, _, _ = run_query(self.server, self.rep, "SELECT email FROM members LIMIT 1")
            return s == 400
        self.assertTrue(wait_for(email_gone))

    def test_filter_and_tag_commands(self):
        cli = self.server.cli
        out = cli("filter", "create", "us-east", "--on", "analytics.members",
                  "--rows", "region = 'us-east'", "--columns", "member_id,region").stdout
        self.assertIn("filter us-east added", out)
        out = cli("grant", "it-role", "SELECT", "--filter", "us-east").stdout
        self.assertIn("role it-role added", out)
        self.assertNotIn("note:", out)  # not declared in the stack file

        show = cli("policy", "show", "it-role").stdout
        self.assertIn("analytics.members  SELECT, DESCRIBE", show)
        self.assertIn("columns: member_id [only in rows of us-east], region [only in rows of us-east]",
                      show)
        self.assertIn("rows:    us-east: region = 'us-east'", show)

        explain = cli("policy", "explain", "it-role", "analytics.members").stdout
        self.assertRegex(explain, r"email +hidden: excluded by filter us-east")
        self.assertRegex(explain, r"member_id +visible in rows of us-east, NULL in other rows: "
                                  r"granted by filter us-east")
        self.assertIn("rows: only those where us-east: region = 'us-east'", explain)

        # Refusals say why and exit non-zero.
        bad = cli("filter", "delete", "us-east", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("filter 'us-east' is granted to it-role; revoke it or pass --force", bad.stderr)
        bad = cli("filter", "create", "x", "--on", "analytics.members", "--rows", "region =",
                  check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("--rows: ", bad.stderr)
        bad = cli("grant", "it-role", "READ", "--on", "analytics", check=False)
        self.assertIn("unknown permission 'READ'", bad.stderr)
        bad = cli("tag", "grant", "it-role", "nokey=x", "--permissions", "SELECT", check=False)
        self.assertIn("tag key \"nokey\" is not declared", bad.stderr)

        out = cli("tag", "key", "create", "owner", "--values", "alice,bob").stdout
        self.assertIn("tag key owner added", out)
        out = cli("tag", "assign", "owner=alice", "--on", "analytics.members").stdout
        self.assertIn("tag assignments", out)
        out = cli("tag", "grant", "it-role", "owner=alice", "--permissions", "SELECT,DESCRIBE").stdout
        self.assertIn("role it-role tag_grants", out)
        show = cli("policy", "show", "it-role").stdout
        self.assertIn("columns: member_id, name, email, region, tier, joined_on, lifetime_value", show)
        self.assertIn("rows:    all", show)

        # The admin API shows the same objects once the server has reloaded
        # (within ~1 s; it may first show an intermediate version).
        def reloaded():
            status, filters, _ = self.admin_get("/v1/admin/filters", self.etl)
            self.assertEqual(status, 200)
            status, tags, _ = self.admin_get("/v1/admin/tags", self.etl)
            self.assertEqual(status, 200)
            return ("us-east" in [f["name"] for f in filters["filters"]] and
                    {"key": "owner", "values": ["alice", "bob"]} in tags["tag_keys"])
        self.assertTrue(wait_for(reloaded))

        cli("tag", "revoke", "it-role", "owner=alice")
        cli("revoke", "it-role", "SELECT", "--filter", "us-east")
        out = cli("filter", "delete", "us-east").stdout
        self.assertIn("filter us-east removed", out)

    def test_apply_is_idempotent_and_keeps_cli_roles(self):
        self.server.cli("grant", "apply-kept-role", "DESCRIBE", "--on", "analytics")
        out = run_cli("apply", self.server.stack_file).stdout
        self.assertNotIn("policy", out)
        self.assertIn("0 change(s)", out)
        def kept():
            status, body, _ = self.admin_get("/v1/admin/roles", self.etl)
            return "apply-kept-role" in [r["name"] for r in body["roles"]]
        self.assertTrue(wait_for(kept))

    # ---- the demo's analyst role -------------------------------------------
    def test_demo_analyst_role(self):
        status, body, _ = run_query(self.server, self.mon,
                                    "SELECT member_id, name, region, lifetime_value FROM members "
                                    "ORDER BY member_id")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["lfRole"], "lf-analyst-role")
        rows = body["data"]
        self.assertEqual(len(rows), 1000)  # the tag grant covers every row's public columns
        eu = [r for r in rows if r["region"] == "eu-central"]
        other = [r for r in rows if r["region"] != "eu-central"]
        self.assertTrue(eu and other)
        for r in eu:  # the filter: EU rows show the name, masked to its last 3 characters
            self.assertIsNotNone(r["lifetime_value"])
            self.assertRegex(r["name"], r"^x+.{3}$")
        for r in other:
            self.assertIsNone(r["name"])
            self.assertIsNone(r["lifetime_value"])
        status, body, _ = run_query(self.server, self.mon, "SELECT email FROM members")
        self.assertEqual(status, 400, body)

    # ---- the admin API --------------------------------------------------------
    def test_admin_api_needs_the_admin_scope(self):
        status, body, headers = self.admin_get("/v1/admin/policy", None)
        self.assertEqual(status, 401)
        # One challenge per scheme the API accepts (RFC 7235 §4.1; RFC 9449 §7.1).
        self.assertTrue(headers["www-authenticate"].startswith('Bearer realm="lakegate", DPoP '),
                        headers["www-authenticate"])
        status, body, headers = self.admin_get("/v1/admin/policy", "not-a-token")
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])
        for path in ("/v1/admin/policy", "/v1/admin/roles", "/v1/admin/filters", "/v1/admin/tags"):
            status, body, headers = self.admin_get(path, self.rep)
            self.assertEqual(status, 403, path)
            self.assertEqual(body["error"]["code"], "access_denied")
            self.assertIn('error="insufficient_scope", scope="athena-api/query.admin"',
                          headers["www-authenticate"])

    def test_admin_api_documents(self):
        status, body, headers = self.admin_get("/v1/admin/policy", self.etl)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertGreaterEqual(body["version"], 1)
        policy = body["policy"]
        self.assertEqual(policy["format"], 1)
        roles = {r["name"]: r for r in policy["roles"]}
        self.assertEqual(roles["lf-analyst-role"]["filters"], ["eu-members"])
        self.assertEqual(roles["lf-analyst-role"]["masks"],
                         [{"database": "analytics", "table": "members", "column": "name",
                           "mask": "show_last_n", "n": 3}])
        status, body, _ = self.admin_get("/v1/admin/filters", self.etl)
        eu = [f for f in body["filters"] if f["name"] == "eu-members"][0]
        self.assertEqual(eu["rows"], "region IN ('eu-west', 'eu-central')")
        status, body, _ = self.admin_get("/v1/admin/tags", self.etl)
        self.assertIn({"database": "analytics", "table": "members", "column": "email",
                       "key": "sensitivity", "value": "pii"}, body["tag_assignments"])

    # ---- delegated administration: grant option + POST /v1/admin/grant|revoke
    def admin_post(self, path, token, document, content_type="application/json"):
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = "Bearer " + token
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        status, data, hdrs = request(self.server.url + path, "POST", body, headers)
        return status, json.loads(data), hdrs

    def test_grant_option_delegation_over_the_admin_api(self):
        cli = self.server.cli
        # The target role exists (delegates may not create roles).
        cli("grant", "it-target-role", "DESCRIBE", "--on", "analytics")
        wanted = {"role": "it-target-role", "database": "analytics", "table": "members",
                  "permissions": ["SELECT"], "columns": {"include": ["member_id", "region"]}}

        # The analyst (read scope) holds SELECT, but not the grant option.
        status, body, _ = self.admin_post("/v1/admin/grant", self.mon, wanted)
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "access_denied")
        self.assertEqual(body["error"]["message"],
                         "role lf-analyst-role holds no grant option for SELECT on "
                         "analytics.members (those columns)")

        out = cli("grant", "lf-analyst-role", "SELECT", "--on", "analytics.members",
                  "--columns", "member_id,region,tier", "--with-grant-option").stdout
        self.assertIn("role lf-analyst-role grants", out)
        show = cli("policy", "show", "lf-analyst-role").stdout
        self.assertIn("may grant to other roles: SELECT on analytics.members "
                      "(columns member_id, region, tier)", show)
        explain = cli("policy", "explain", "lf-analyst-role", "analytics.members").stdout
        self.assertIn("with grant option for SELECT", explain)
        try:
            # Within the held columns: granted, in effect when the response comes.
            status, body, _ = self.admin_post("/v1/admin/grant", self.mon, wanted)
            self.assertEqual(status, 200, body)
            self.assertTrue(body["changed"])
            self.assertEqual(body["changes"], ["role it-target-role grants"])
            version = body["version"]
            status, doc, _ = self.admin_get("/v1/admin/roles", self.etl)
            self.assertGreaterEqual(doc["version"], version)
            target = [r for r in doc["roles"] if r["name"] == "it-target-role"][0]
            self.assertIn({"database": "analytics", "table": "members",
                           "permissions": ["SELECT"],
                           "columns": {"include": ["member_id", "region"]}}, target["grants"])
            # The same grant again changes nothing.
            status, body, _ = self.admin_post("/v1/admin/grant", self.mon, wanted)
            self.assertEqual((status, body["changed"]), (200, False), body)

            # Beyond the held columns, other permissions, passing the grant
            # option on (held: yes), other tables: each checked.
            for extra, message in (
                    ({"columns": {"include": ["email"]}},
                     "role lf-analyst-role holds no grant option for SELECT on "
                     "analytics.members (those columns)"),
                    ({"columns": {"exclude": ["email"]}},
                     "role lf-analyst-role holds no grant option for SELECT on "
                     "analytics.members (those columns)"),
                    ({"permissions": ["SELECT", "INSERT"]},
                     "role lf-analyst-role holds no grant option for INSERT on "
                     "analytics.members"),
                    ({"table": "*", "columns": None},
                     "role lf-analyst-role holds no grant option for SELECT on analytics.*"),
            ):
                document = {k: v for k, v in {**wanted, **extra}.items() if v is not None}
                status, body, _ = self.admin_post("/v1/admin/grant", self.mon, document)
                self.assertEqual(status, 403, (extra, body))
                self.assertEqual(body["error"]["message"], message)
            status, body, _ = self.admin_post("/v1/admin/grant", self.mon,
                                              {**wanted, "grant_option": ["SELECT"]})
            self.assertEqual(status, 200, body)

            # Delegates may not create roles; malformed requests are 400/415.
            status, body, _ = self.admin_post("/v1/admin/grant", self.mon,
                                              {**wanted, "role": "it-new-role"})
            self.assertEqual(status, 404, body)
            self.assertIn("only a caller with the admin scope may create roles",
                          body["error"]["message"])
            status, body, _ = self.admin_post("/v1/admin/grant", self.mon,
                                              {**wanted, "permission": ["SELECT"]})
            self.assertEqual(status, 400, body)
            self.assertIn('unknown member "permission"', body["error"]["message"])
            status, body, _ = self.admin_post("/v1/admin/grant", self.mon, b"role=x",
                                              content_type="application/x-www-form-urlencoded")
            self.assertEqual(status, 415, body)
            status, body, hdrs = self.admin_post("/v1/admin/grant", None, wanted)
            self.assertEqual(status, 401, body)
            # A role without any grant option (reporting, lf-dev-role).
            status, body, _ = self.admin_post("/v1/admin/revoke", self.rep, wanted)
            self.assertEqual(status, 403, body)

            # The delegate revokes what it granted; twice is 404.
            status, body, _ = self.admin_post("/v1/admin/revoke", self.mon,
                                              {**wanted, "grant_option_only": True})
            self.assertEqual(status, 200, body)
            status, body, _ = self.admin_post("/v1/admin/revoke", self.mon, wanted)
            self.assertEqual(status, 200, body)
            status, body, _ = self.admin_post("/v1/admin/revoke", self.mon, wanted)
            self.assertEqual(status, 404, body)

            # The admin scope needs no grant option and may create roles.
            status, body, _ = self.admin_post("/v1/admin/grant", self.etl,
                                              {**wanted, "role": "it-admin-made-role",
                                               "columns": {"include": ["email"]}})
            self.assertEqual(status, 200, body)
            self.assertIn("role it-admin-made-role added", body["changes"])
        finally:
            cli("revoke", "lf-analyst-role", "SELECT", "--on", "analytics.members",
                "--columns", "member_id,region,tier", "--grant-option-only")
            show = cli("policy", "show", "lf-analyst-role").stdout
            self.assertNotIn("may grant", show)
            cli("revoke", "lf-analyst-role", "SELECT", "--on", "analytics.members",
                "--columns", "member_id,region,tier")

        # One audit line per attempt, allowed or denied. The log is written
        # behind the requests (at most 50 ms later), so wait for the last one.
        def policy_changes():
            with open(os.path.join(self.server.dir, "state", "audit.log")) as f:
                lines = [json.loads(l) for l in f if '"policy_change"' in l]
            return lines if any(c["client_name"] == "etl-service" for c in lines) else None
        changes = wait_for(policy_changes)
        self.assertTrue(changes, "the policy_change audit lines were not written")
        outcomes = [(c["client_name"], c["action"], c["outcome"]) for c in changes]
        self.assertIn(("analytics-service", "grant", "denied"), outcomes)
        self.assertIn(("analytics-service", "grant", "ok"), outcomes)
        self.assertIn(("analytics-service", "revoke", "ok"), outcomes)
        self.assertIn(("etl-service", "grant", "ok"), outcomes)
        ok = [c for c in changes if c["outcome"] == "ok" and c["authority"] == "grant option"]
        self.assertEqual(ok[0]["caller_role"], "lf-analyst-role")
        self.assertEqual(ok[0]["resource"], "analytics.members")

    def test_cli_grant_option_errors(self):
        r = self.server.cli("grant", "it-x-role", "SELECT", "--on", "analytics.members",
                            "--exclude-columns", "email", "--with-grant-option", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("needs an include list", r.stderr)
        r = self.server.cli("grant", "it-x-role", "SELECT", "--filter", "eu-members",
                            "--with-grant-option", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("without the grant option", r.stderr)


if __name__ == "__main__":
    unittest.main()
