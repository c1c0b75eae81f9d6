#include "engine/postgres/pg_rows.h"

#include <cstdlib>

namespace lakegate::engine::postgres_internal {
namespace {

// Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions.
constexpr Oid kBool = 16, kBytea = 17, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
              kOid = 26, kJson = 114, kFloat4 = 700, kFloat8 = 701, kBpchar = 1042, kVarchar = 1043,
              kDate = 1082, kTimestamp = 1114, kTimestampTz = 1184, kNumeric = 1700, kJsonb = 3802;

bool IsArray(Oid oid) {
  switch (oid) {
    case 1000:
    case 1001:
    case 1005:
    case 1007:
    case 1009:
    case 1014:
    case 1015:
    case 1016:
    case 1021:
    case 1022:
    case 1115:
    case 1182:
    case 1185:
    case 1231:
    case 199:
    case 3807:
      return true;
    default:
      return false;
  }
}

std::string TypeName(Oid oid) {
  switch (oid) {
    case kBool:
      return "BOOLEAN";
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      return "INTEGER";
    case kFloat4:
    case kFloat8:
      return "REAL";
    case kNumeric:
      return "NUMERIC";
    case kText:
    case kVarchar:
    case kBpchar:
    case kName:
      return "TEXT";
    case kDate:
      return "DATE";
    case kTimestamp:
      return "TIMESTAMP";
    case kTimestampTz:
      return "TIMESTAMPTZ";
    case kBytea:
      return "BLOB";
    case kJson:
    case kJsonb:
      return "JSON";
    default:
      return IsArray(oid) ? "ARRAY" : "";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

}  // namespace

std::vector<ColumnInfo> ColumnsOf(const PGresult* result) {
  std::vector<ColumnInfo> out;
  for (int c = 0; c < PQnfields(result); ++c) {
    out.push_back({PQfname(result, c), TypeName(PQftype(result, c))});
  }
  return out;
}

void PgRowView::Reset(const PGresult* result) {
  result_ = result;
  size_t n = static_cast<size_t>(PQnfields(result));
  types_.resize(n);
  scratch_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    switch (PQftype(result, static_cast<int>(i))) {
      case kInt2:
      case kInt4:
      case kInt8:
      case kOid:
        types_[i] = Kind::kInteger;
        break;
      case kBool:
        types_[i] = Kind::kBool;
        break;
      case kFloat4:
      case kFloat8:
      case kNumeric:
        types_[i] = Kind::kReal;
        break;
      case kTimestamp:
        types_[i] = Kind::kTimestamp;
        break;
      case kTimestampTz:
        types_[i] = Kind::kTimestampTz;
        break;
      case kBytea:
        types_[i] = Kind::kBytea;
        break;
      default:
        types_[i] = Kind::kText;
    }
  }
}

std::string_view PgRowView::Raw(size_t i) const {
  int c = static_cast<int>(i);
  return {PQgetvalue(result_, 0, c), static_cast<size_t>(PQgetlength(result_, 0, c))};
}

ValueType PgRowView::type(size_t i) const {
  if (PQgetisnull(result_, 0, static_cast<int>(i)) != 0) return ValueType::kNull;
  switch (types_[i]) {
    case Kind::kInteger:
    case Kind::kBool:
      return ValueType::kInteger;
    case Kind::kReal:
      return ValueType::kReal;
    case Kind::kBytea:
      return ValueType::kBlob;
    default:
      return ValueType::kText;
  }
}

int64_t PgRowView::integer(size_t i) const {
  if (types_[i] == Kind::kBool) return Raw(i) == "t" ? 1 : 0;
  return std::strtoll(PQgetvalue(result_, 0, static_cast<int>(i)), nullptr, 10);
}

double PgRowView::real(size_t i) const {
  return std::strtod(PQgetvalue(result_, 0, static_cast<int>(i)), nullptr);
}

std::string_view PgRowView::text(size_t i) const {
  std::string_view raw = Raw(i);
  if (types_[i] != Kind::kTimestamp && types_[i] != Kind::kTimestampTz) return raw;
  // "2024-05-01 10:00:00+00" -> "2024-05-01T10:00:00Z"; "+05:30" stays.
  std::string& s = scratch_[i];
  s.assign(raw);
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  if (types_[i] == Kind::kTimestampTz) {
    size_t sign = s.find_last_of("+-");
    if (sign != std::string::npos && sign > 10) {
      std::string offset = s.substr(sign);
      if (offset == "+00") {
        s.replace(sign, std::string::npos, "Z");
      } else if (offset.size() == 3) {
        s += ":00";
      }
    }
  }
  return s;
}

std::string_view PgRowView::blob(size_t i) const {
  std::string_view raw = Raw(i);
  std::string& s = scratch_[i];
  s.clear();
  if (raw.starts_with("\\x")) {
    for (size_t k = 2; k + 1 < raw.size(); k += 2) {
      s += static_cast<char>(HexValue(raw[k]) * 16 + HexValue(raw[k + 1]));
    }
  } else {
    s.assign(raw);
  }
  return s;
}

}  // namespace lakegate::engine::postgres_internal
