// Internal to engine/postgres: the policy catalog compiled to PostgreSQL
// objects. Pure (no libpq): what the engine creates, as names and SQL text.
//
// Design (docs/postgresql.md): a catalog database is a schema of the engine's
// database (the "raw" schema). Each lakegate role gets its own LOGIN role,
// a member of no role but table owner roles (DDL, below), that no other
// role can become; a role with
// unrestricted access (policy::IsUnrestricted) uses the raw schemas directly;
// every other role gets, per catalog database it may see, a governed schema
// owned by the NOLOGIN owner role, holding one security-barrier view per
// table it may see: exactly its columns, masks as expressions, row filters as
// one OR, cells no source covers read NULL. The request role holds USAGE on
// its governed schemas and privileges on their views only, never a
// privilege on a raw table. Names carry a prefix derived from the database's
// name, since PostgreSQL roles are cluster-wide.
//
// DDL: each raw table is owned by a NOLOGIN owner role of its own. A role
// with DROP or ALTER on a table it reads whole (or an unrestricted role) is
// a member of that table's owner role, which holds that one table and
// nothing else; a role with CREATE_TABLE on a catalog database holds CREATE
// on its schema, and what it creates is handed to the owner role in the
// same transaction (docs/postgresql.md).
// Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace lakegate::engine::postgres_internal {

struct RawColumn {
  std::string name;
  std::string type;  // format_type(), e.g. "bigint", "character varying(20)"
};
struct RawTable {
  std::string name;
  std::vector<RawColumn> columns;
  // A table (relkind r or p) rather than a view, materialized or foreign
  // table: only tables get an owner role of their own.
  bool table = true;
  // pg_class.oid: a table dropped and created again with the same columns is
  // another table (its governed views went with the old one).
  std::string oid = {};
};
struct RawSchema {
  std::string name;
  std::vector<RawTable> tables;
};
// The catalog databases (schemas) of the engine's database, sorted by name.
using RawCatalog = std::vector<RawSchema>;

// The names of the engine's own objects.
class Naming {
 public:
  // `database` is the PostgreSQL database the engine works in.
  explicit Naming(const std::string& database);
  const std::string& prefix() const { return prefix_; }                // "lg_1a2b3c4d"
  std::string owner() const { return prefix_ + "_owner"; }             // owns every governed object
  std::string private_schema() const { return prefix_ + "_private"; }  // the mask key
  std::string Login(const std::string& role) const;                    // the role's LOGIN role
  std::string GovernedSchema(const std::string& role, const std::string& database) const;
  // The NOLOGIN role owning raw table `table` of catalog database `database`.
  std::string TableOwner(const std::string& database, const std::string& table) const;
  // The SECURITY DEFINER function (in the private schema) that hands the
  // tables the calling login role owns to the owner role.
  std::string AdoptFunction() const;
  // The SECURITY DEFINER function that drops the governed views over tables
  // the calling login role may DROP or ALTER (ReleaseFunctionSql()).
  std::string ReleaseFunction() const;
  // True for a schema name of ours (never a catalog database).
  bool IsOurs(const std::string& name) const;

 private:
  std::string prefix_;
};

// The SQL type family of a raw column type, for the masks and filters.
enum class TypeFamily { kInteger, kFloat, kNumeric, kText, kDate, kOther };
TypeFamily FamilyOf(const std::string& type);

// The public column type of a column ("INTEGER", "REAL", "TEXT", ...), as the
// query API reports it, from the raw type.
std::string PublicType(const std::string& type);

struct ViewPlan {
  std::string database;  // the catalog database
  std::string table;     // the catalog table
  policy::PermissionSet permissions = 0;
  bool whole_table = true;  // INSERT/UPDATE/DELETE apply (policy::TableView)
  std::string create_sql;   // CREATE VIEW ... (run as the owner role)
  std::string grant_sql;    // GRANT ... TO the login role ("" = none)
};

struct RolePlan {
  std::string role;   // the lakegate role
  std::string login;  // its LOGIN role
  bool unrestricted = false;
  // Non-empty: the role's policy cannot be enforced exactly here; every query
  // of the role fails with this text, which names the feature.
  std::string unsupported;
  // catalog database -> the schema its names resolve to for this role (its
  // governed schema, or the raw schema for an unrestricted role).
  std::map<std::string, std::string> schemas;
  // Governed roles: governed schema -> one view per visible table.
  std::map<std::string, std::vector<ViewPlan>> views_by_schema;
  // Catalog databases where the role may CREATE TABLE (CREATE on the schema).
  std::vector<std::string> create_in;
  // The table owner roles the login role is a member of: DROP/ALTER.
  std::vector<std::string> table_owners;
  // "database.table" of a table it owns holding only one of DROP and ALTER:
  // PostgreSQL's ownership gives both, so the engine must read which table
  // a DDL statement names (CheckDdl refuses table DDL it cannot read).
  std::string ddl_split;
  // "database.table" -> why DROP/ALTER the role holds is not given to it
  // here (a table it does not read whole: ownership would show raw rows).
  std::map<std::string, std::string> ddl_refused;
};

// CREATE OR REPLACE of Naming::AdoptFunction(): SECURITY DEFINER, run by a
// login role at the end of each writing request, it makes the owner role the
// owner of every catalog table the calling login role owns (what it created
// in this transaction), so that no role keeps a table of its own.
std::string AdoptFunctionSql(const Naming& naming);

// CREATE OR REPLACE of Naming::ReleaseFunction(tables text[]): for each named
// table whose owner role the calling login role belongs to (it may DROP or
// ALTER it), drops the governed views that read it, in the caller's
// transaction. The next compile makes them anew.
std::string ReleaseFunctionSql(const Naming& naming);

// Plans every role of `policy` over `raw`.
std::vector<RolePlan> PlanRoles(const policy::PolicySnapshot& policy, const RawCatalog& raw,
                                const Naming& naming);

}  // namespace lakegate::engine::postgres_internal
