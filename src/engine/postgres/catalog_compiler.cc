#include "engine/postgres/catalog_compiler.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string_view>

#include "common/strings.h"
#include "crypto/hash.h"
#include "engine/engine.h"
#include "engine/postgres/pg_conn.h"

namespace lakegate::engine::postgres_internal {
namespace {

std::string Hex(std::string_view text, size_t chars) {
  return HexEncode(crypto::Sha256(text)).substr(0, chars);
}

// Thrown-free failure of one mask: the feature that cannot be compiled.
struct MaskSql {
  std::string sql;
  std::string unsupported;
};

// A raw column of the masked row for an expression mask: its SQL and kind,
// nullopt when its type has no exact counterpart of SQLite's values.
using RowColumns = std::function<std::optional<policy::MaskColumnSql>(std::string_view)>;

// The SQL of `mask` on raw column `c` (an expression) of type `type`, with
// SQLite's semantics (engine/sqlite/catalog.cc), or the unsupported feature.
MaskSql CompileMask(const policy::ColumnMask& mask, const std::string& c, const std::string& type,
                    const Naming& naming, const RowColumns& row) {
  TypeFamily family = FamilyOf(type);
  std::string where =
      " (column " + mask.database + "." + mask.table + "." + mask.column + " of type " + type + ")";
  auto unsupported = [&](std::string_view what) {
    return MaskSql{
        "", std::string(what) + " masks" + where + " are not supported by the PostgreSQL engine"};
  };
  // An invalid mask reads NULL on every engine (fail closed).
  if (!policy::ValidateColumnMask(mask).ok()) return {"CAST(NULL AS " + type + ")", ""};
  // The value's text as SQLite renders it, for text and integer columns.
  std::string text = family == TypeFamily::kText ? c : c + "::text";
  bool as_text = family == TypeFamily::kText || family == TypeFamily::kInteger;
  switch (mask.kind) {
    case policy::MaskKind::kNull:
      return {"CAST(NULL AS " + type + ")", ""};
    case policy::MaskKind::kRedact:
      if (family == TypeFamily::kInteger || family == TypeFamily::kFloat ||
          family == TypeFamily::kNumeric) {
        return {"CASE WHEN " + c + " IS NULL THEN NULL ELSE 0 END", ""};
      }
      if (family != TypeFamily::kText) return unsupported("redact");
      return {"repeat('x', length(" + c + "))", ""};
    case policy::MaskKind::kHash: {
      if (!as_text) return unsupported("hash");
      std::string key = QuoteIdent(naming.private_schema()) + ".mask_key";
      return {"encode(sha256((SELECT opad FROM " + key + ") || sha256((SELECT ipad FROM " + key +
                  ") || convert_to(" + text + ", 'UTF8'))), 'hex')",
              ""};
    }
    case policy::MaskKind::kShowLastN: {
      if (!as_text) return unsupported("show_last_n");
      std::string n = std::to_string(mask.n);
      return {"CASE WHEN " + c + " IS NULL THEN NULL ELSE repeat('x', greatest(length(" + text +
                  ") - " + n + ", 0)) || right(" + text + ", " + n + ") END",
              ""};
    }
    case policy::MaskKind::kYearOnly:
      if (family == TypeFamily::kText) {
        return {"CASE WHEN " + c + " COLLATE \"C\" ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN substr(" +
                    c + ", 1, 4) END",
                ""};
      }
      if (family == TypeFamily::kDate) return {"to_char(" + c + ", 'YYYY')", ""};
      return {"CAST(NULL AS text)", ""};
    case policy::MaskKind::kExpression: {
      Result<policy::MaskExpression> parsed = policy::ParseMaskExpression(mask.expression);
      if (!parsed.ok()) return {"CAST(NULL AS text)", ""};  // validated above
      Result<std::string> sql = parsed->ToPostgreSql(row);
      if (!sql.ok()) {
        return MaskSql{"", "expression masks" + where +
                               " are not supported by the PostgreSQL engine where SQLite's value "
                               "cannot be matched exactly: " +
                               sql.status().message()};
      }
      return {*sql, ""};
    }
  }
  return {"CAST(NULL AS " + type + ")", ""};
}

// The DDL `role` may run in `schema`: CREATE TABLE by the database's
// permission, DROP/ALTER by the table's, as ownership only where the role
// reads the whole table (an owner can always read its table).
void PlanDdl(const policy::PolicySnapshot& policy, const policy::Role& role,
             const RawSchema& schema, const Naming& naming, RolePlan& plan) {
  using P = policy::Permission;
  if (plan.unrestricted ||
      policy::Has(policy::DecideDatabase(policy, role, schema.name), P::kCreateTable)) {
    plan.create_in.push_back(schema.name);
  }
  for (const RawTable& table : schema.tables) {
    if (!table.table) continue;
    if (plan.unrestricted) {
      plan.table_owners.push_back(naming.TableOwner(schema.name, table.name));
      continue;
    }
    std::vector<std::string> all;
    for (const RawColumn& c : table.columns) all.push_back(c.name);
    policy::TableView view = policy::DecideView(policy, role, schema.name, table.name, all);
    if (!policy::Has(view.permissions, P::kDrop) && !policy::Has(view.permissions, P::kAlter)) {
      continue;
    }
    if (view.whole_table && policy::Has(view.permissions, P::kSelect)) {
      plan.table_owners.push_back(naming.TableOwner(schema.name, table.name));
      if (plan.ddl_split.empty() &&
          policy::Has(view.permissions, P::kDrop) != policy::Has(view.permissions, P::kAlter)) {
        plan.ddl_split = schema.name + "." + table.name;
      }
    } else {
      plan.ddl_refused[schema.name + "." + table.name] =
          "DROP and ALTER on the PostgreSQL engine are given only to roles that read the whole "
          "table (no filters, masks or column limits): the table's owner reads its raw rows";
    }
  }
}

}  // namespace

Naming::Naming(const std::string& database) : prefix_("lg_" + Hex(database, 8)) {}

std::string Naming::Login(const std::string& role) const { return prefix_ + "_r" + Hex(role, 10); }

std::string Naming::GovernedSchema(const std::string& role, const std::string& database) const {
  std::string base = Login(role) + "_";
  // PostgreSQL names hold at most 63 bytes.
  if (base.size() + database.size() <= 63) return base + database;
  return base + "d" + Hex(database, 16);
}

std::string Naming::TableOwner(const std::string& database, const std::string& table) const {
  return prefix_ + "_t" + Hex(database + '\0' + table, 16);
}

std::string Naming::AdoptFunction() const {
  return QuoteIdent(private_schema()) + ".adopt_created_tables";
}

std::string AdoptFunctionSql(const Naming& naming) {
  return "CREATE OR REPLACE FUNCTION " + naming.AdoptFunction() +
         "() RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
         "SET search_path = pg_catalog, pg_temp AS $lg$\n"
         "DECLARE r record;\n"
         "BEGIN\n"
         "  FOR r IN SELECT c.oid::pg_catalog.regclass AS rel FROM pg_catalog.pg_class c\n"
         "      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
         "    WHERE c.relowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = "
         "session_user)\n"
         "      AND c.relkind IN ('r', 'p') AND n.nspname !~ '^pg_'\n"
         "      AND n.nspname <> 'information_schema'\n"
         "      AND NOT pg_catalog.starts_with(n.nspname, " +
         QuoteString(naming.prefix() + "_") +
         ")\n"
         "  LOOP\n"
         "    EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', r.rel, " +
         QuoteString(naming.owner()) +
         ");\n"
         "  END LOOP;\n"
         "END $lg$";
}

std::string Naming::ReleaseFunction() const {
  return QuoteIdent(private_schema()) + ".release_tables";
}

std::string ReleaseFunctionSql(const Naming& naming) {
  return "CREATE OR REPLACE FUNCTION " + naming.ReleaseFunction() +
         "(tables text[]) RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
         "SET search_path = pg_catalog, pg_temp AS $lg$\n"
         "DECLARE name text; t regclass; v record;\n"
         "BEGIN\n"
         "  FOREACH name IN ARRAY tables LOOP\n"
         "    t := pg_catalog.to_regclass(name);\n"
         "    CONTINUE WHEN t IS NULL;\n"
         "    CONTINUE WHEN NOT pg_catalog.pg_has_role(session_user,\n"
         "      (SELECT relowner FROM pg_catalog.pg_class WHERE oid = t), 'USAGE');\n"
         "    FOR v IN SELECT DISTINCT r.ev_class::pg_catalog.regclass AS view\n"
         "        FROM pg_catalog.pg_depend d\n"
         "        JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid\n"
         "        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class\n"
         "        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
         "      WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass\n"
         "        AND d.refobjid = t AND c.oid <> t AND c.relkind = 'v'\n"
         "        AND pg_catalog.starts_with(n.nspname, " +
         QuoteString(naming.prefix() + "_") + ") AND n.nspname <> " +
         QuoteString(naming.private_schema()) +
         "\n"
         "    LOOP\n"
         "      EXECUTE pg_catalog.format('DROP VIEW %s', v.view);\n"
         "    END LOOP;\n"
         "  END LOOP;\n"
         "END $lg$";
}

bool Naming::IsOurs(const std::string& name) const {
  return name.size() >= prefix_.size() + 1 && name.compare(0, prefix_.size(), prefix_) == 0 &&
         name[prefix_.size()] == '_';
}

TypeFamily FamilyOf(const std::string& type) {
  std::string t = AsciiLower(type);
  if (t == "smallint" || t == "integer" || t == "bigint") return TypeFamily::kInteger;
  if (t == "real" || t == "double precision") return TypeFamily::kFloat;
  if (t.starts_with("numeric")) return TypeFamily::kNumeric;
  if (t == "text" || t.starts_with("character")) return TypeFamily::kText;
  if (t == "date" || t.starts_with("timestamp")) return TypeFamily::kDate;
  return TypeFamily::kOther;
}

std::string PublicType(const std::string& type) {
  std::string t = AsciiLower(type);
  switch (FamilyOf(type)) {
    case TypeFamily::kInteger:
      return "INTEGER";
    case TypeFamily::kFloat:
      return "REAL";
    case TypeFamily::kNumeric:
      return "NUMERIC";
    case TypeFamily::kText:
      return "TEXT";
    case TypeFamily::kDate:
      return t == "date"                                     ? "DATE"
             : t.find("with time zone") != std::string::npos ? "TIMESTAMPTZ"
                                                             : "TIMESTAMP";
    case TypeFamily::kOther:
      break;
  }
  if (t == "boolean") return "BOOLEAN";
  if (t == "bytea") return "BLOB";
  if (t == "json" || t == "jsonb") return "JSON";
  if (t.ends_with("[]")) return "ARRAY";
  std::string upper = type;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

std::vector<RolePlan> PlanRoles(const policy::PolicySnapshot& policy, const RawCatalog& raw,
                                const Naming& naming) {
  std::vector<RolePlan> plans;
  for (const auto& [name, role] : policy.roles) {
    RolePlan plan;
    plan.role = name;
    plan.login = naming.Login(name);
    plan.unrestricted = policy::IsUnrestricted(role);
    for (const RawSchema& schema : raw) {
      PlanDdl(policy, role, schema, naming, plan);
      if (policy::DecideDatabase(policy, role, schema.name) == 0 && !plan.unrestricted) continue;
      if (plan.unrestricted) {
        plan.schemas[schema.name] = schema.name;
        continue;
      }
      std::string governed = naming.GovernedSchema(name, schema.name);
      plan.schemas[schema.name] = governed;
      std::vector<ViewPlan>& views = plan.views_by_schema[governed];
      for (const RawTable& table : schema.tables) {
        std::vector<std::string> all;
        for (const RawColumn& c : table.columns) all.push_back(c.name);
        policy::TableView view = policy::DecideView(policy, role, schema.name, table.name, all);
        if (!view.visible()) continue;
        auto raw_column = [&](std::string_view column) -> const RawColumn* {
          for (const RawColumn& c : table.columns) {
            if (EqualsIgnoreCase(c.name, column)) return &c;
          }
          return nullptr;
        };
        auto column_sql = [&](std::string_view column) -> std::string {
          const RawColumn* c = raw_column(column);
          // Unreachable: DecideView drops filters on unknown columns.
          return c == nullptr ? "NULL" : "t." + QuoteIdent(c->name);
        };
        auto any_of = [&](const std::vector<const policy::RowFilter*>& filters) {
          std::string sql;
          for (const policy::RowFilter* f : filters) {
            if (!sql.empty()) sql += " OR ";
            sql += "(" + f->ToSql(column_sql, policy::SqlDialect::kPostgreSQL) + ")";
          }
          return sql.empty() ? std::string("FALSE") : sql;
        };
        std::string select;
        for (const policy::ViewColumn& vc : view.columns) {
          const RawColumn* c = raw_column(vc.name);
          if (c == nullptr) continue;
          std::string value = "t." + QuoteIdent(c->name);
          if (vc.mask != nullptr) {
            auto row = [&](std::string_view column) -> std::optional<policy::MaskColumnSql> {
              const RawColumn* rc = raw_column(column);
              if (rc == nullptr) return std::nullopt;
              switch (FamilyOf(rc->type)) {
                case TypeFamily::kInteger:
                  return policy::MaskColumnSql{"t." + QuoteIdent(rc->name),
                                               policy::MaskColumnSql::Kind::kInteger};
                case TypeFamily::kFloat:
                  return policy::MaskColumnSql{"t." + QuoteIdent(rc->name),
                                               policy::MaskColumnSql::Kind::kReal};
                case TypeFamily::kText:
                  return policy::MaskColumnSql{"t." + QuoteIdent(rc->name),
                                               policy::MaskColumnSql::Kind::kText};
                default:
                  return std::nullopt;
              }
            };
            MaskSql mask = CompileMask(*vc.mask, value, c->type, naming, row);
            if (!mask.unsupported.empty()) {
              if (plan.unsupported.empty()) plan.unsupported = mask.unsupported;
              continue;
            }
            value = mask.sql;
          }
          if (!vc.all_rows)
            value = "CASE WHEN " + any_of(vc.row_filters) + " THEN " + value + " END";
          if (!select.empty()) select += ", ";
          select += value + " AS " + QuoteIdent(c->name);
        }
        std::string target = QuoteIdent(governed) + "." + QuoteIdent(table.name);
        ViewPlan v;
        v.database = schema.name;
        v.table = table.name;
        v.permissions = view.permissions;
        v.whole_table = view.whole_table;
        v.create_sql = "CREATE VIEW " + target + " WITH (security_barrier) AS SELECT " + select +
                       " FROM " + QuoteIdent(schema.name) + "." + QuoteIdent(table.name) + " AS t";
        if (!view.all_rows) v.create_sql += " WHERE " + any_of(view.row_filters);
        std::vector<std::string> privileges;
        if (!view.columns.empty() && policy::Has(view.permissions, policy::Permission::kSelect)) {
          privileges.push_back("SELECT");
        }
        if (view.whole_table) {
          if (policy::Has(view.permissions, policy::Permission::kInsert)) {
            privileges.push_back("INSERT");
          }
          if (policy::Has(view.permissions, policy::Permission::kUpdate)) {
            privileges.push_back("UPDATE");
          }
          if (policy::Has(view.permissions, policy::Permission::kDelete)) {
            privileges.push_back("DELETE");
          }
        }
        if (!privileges.empty()) {
          v.grant_sql =
              "GRANT " + Join(privileges, ", ") + " ON " + target + " TO " + QuoteIdent(plan.login);
        }
        views.push_back(std::move(v));
      }
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace lakegate::engine::postgres_internal
