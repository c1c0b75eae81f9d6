#include "cli/policy_text.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "cli/exit_codes.h"
#include "common/strings.h"
#include "policy/policy_json.h"

namespace lakegate::cli {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view part : SplitNonEmpty(text, ',')) {
    std::string_view trimmed = TrimWhitespace(part);
    if (!trimmed.empty()) out.emplace_back(trimmed);
  }
  return out;
}

policy::PermissionSet PermissionsOrExit(const std::string& text) {
  policy::PermissionSet set = 0;
  for (const std::string& name : SplitList(text)) {
    auto bits = policy::ParsePermission(name);
    if (!bits) {
      Exit(Fail("unknown permission '" + name +
                "'; use DESCRIBE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, CREATE_TABLE or "
                "ALL, separated by commas"));
    }
    set |= *bits;
  }
  if (set == 0) Exit(Fail("no permission given, e.g. SELECT,DESCRIBE"));
  return set;
}

std::vector<std::string> ResourceOrExit(const std::string& on, size_t min_parts, size_t max_parts) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = on.find('.', start);
    parts.push_back(on.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  bool empty_part =
      std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (empty_part || parts.size() < min_parts || parts.size() > max_parts) {
    const char* forms[] = {"", "DATABASE", "DATABASE.TABLE", "DATABASE.TABLE.COLUMN"};
    std::string expected = forms[min_parts];
    for (size_t n = min_parts + 1; n <= max_parts; ++n) expected += std::string(" or ") + forms[n];
    Exit(Fail("--on '" + on + "': expected " + expected));
  }
  return parts;
}

policy::ColumnSpec ColumnsOrExit(const std::string& include, const std::string& exclude) {
  policy::ColumnSpec spec;
  if (!include.empty() && !exclude.empty()) {
    Exit(Fail("give --columns or --exclude-columns, not both"));
  }
  if (!include.empty()) {
    spec.kind = policy::ColumnSpec::Kind::kInclude;
    spec.columns = SplitList(include);
  } else if (!exclude.empty()) {
    spec.kind = policy::ColumnSpec::Kind::kExclude;
    spec.columns = SplitList(exclude);
  }
  return spec;
}

std::string DescribeColumns(const policy::ColumnSpec& spec) {
  switch (spec.kind) {
    case policy::ColumnSpec::Kind::kAll:
      return "all columns";
    case policy::ColumnSpec::Kind::kInclude:
      return "columns " + Join(spec.columns, ", ");
    case policy::ColumnSpec::Kind::kExclude:
      return "all columns but " + Join(spec.columns, ", ");
  }
  return "";
}

std::string DescribeExpression(const policy::TagExpression& e) {
  std::vector<std::string> parts;
  for (const auto& [key, values] : e.clauses) parts.push_back(key + "=" + Join(values, "|"));
  return Join(parts, " AND ");
}

policy::TagExpression ExpressionOrExit(const std::string& text) {
  policy::TagExpression e;
  std::string normalized = text;
  std::replace(normalized.begin(), normalized.end(), '&', ';');
  for (std::string_view clause : SplitNonEmpty(normalized, ';')) {
    clause = TrimWhitespace(clause);
    size_t eq = clause.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      Exit(Fail("tag expression '" + text +
                "': expected KEY=VALUE[,VALUE...][;KEY=VALUE...], e.g. "
                "\"domain=sales;sensitivity=public,internal\""));
    }
    std::string key(TrimWhitespace(clause.substr(0, eq)));
    std::vector<std::string> values = SplitList(std::string(clause.substr(eq + 1)));
    if (values.empty()) Exit(Fail("tag expression '" + text + "': key " + key + " has no value"));
    if (e.clauses.count(key)) Exit(Fail("tag expression '" + text + "': key " + key + " twice"));
    e.clauses[key] = std::move(values);
  }
  if (e.clauses.empty()) Exit(Fail("empty tag expression"));
  return e;
}

std::string DescribeMask(const policy::ColumnMask& m) {
  std::string out(policy::MaskKindName(m.kind));
  if (m.kind == policy::MaskKind::kShowLastN) out += " " + std::to_string(m.n);
  if (m.kind == policy::MaskKind::kExpression) out += " " + m.expression;
  return out;
}

PolicyContext OpenPolicyOrExit(const std::string& config_path, bool load) {
  PolicyContext pc{OpenContext(config_path), nullptr};
  pc.catalog = std::make_unique<catalog::PolicyCatalog>(*pc.ctx.store);
  if (load) {
    if (Status s = pc.catalog->Refresh(); !s.ok()) Exit(Fail(s));
  }
  return pc;
}

}  // namespace lakegate::cli
