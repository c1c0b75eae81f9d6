#include "engine/demo_members.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace lakegate::engine {
namespace {

constexpr std::array<const char*, 16> kFirst = {"Ada", "Bo",   "Chen", "Dara", "Eli",   "Farah",
                                                "Gus", "Hana", "Ines", "Jon",  "Kemal", "Lena",
                                                "Mei", "Noor", "Omar", "Pia"};
constexpr std::array<const char*, 12> kLast = {"Alvarez", "Brown",   "Costa",    "Dubois",
                                               "Evans",   "Fischer", "Garcia",   "Haddad",
                                               "Ito",     "Jensen",  "Kowalski", "Larsen"};
constexpr std::array<const char*, 5> kRegions = {"us-east", "us-west", "eu-central", "ap-south",
                                                 "sa-east"};
constexpr std::array<const char*, 4> kTiers = {"bronze", "silver", "gold", "platinum"};
constexpr uint64_t kSeed = 20240601;  // fixed: the same rows on every machine

// The rows as a RowSource: one record per member, generated on the fly.
class DemoMembersSource final : public RowSource {
 public:
  explicit DemoMembersSource(int64_t rows) : rows_(rows) {}

  const std::vector<std::string>& columns() const override { return columns_; }

  Result<bool> Next(std::vector<LoadField>& row) override {
    if (id_ >= rows_) return false;
    ++id_;
    // The order of the draws is part of the data: each row takes eight, in
    // this order, and changing it changes every row.
    const uint64_t last = Draw();
    const uint64_t first = Draw();
    const uint64_t day = Draw();
    const uint64_t month = Draw();
    const uint64_t year = Draw();
    const uint64_t cents = Draw() % 500000;
    const uint64_t region = Draw();
    const uint64_t tier = Draw();

    char email[64];
    std::snprintf(email, sizeof(email), "member%05lld@example.com", static_cast<long long>(id_));
    char joined[16];
    std::snprintf(joined, sizeof(joined), "%04u-%02u-%02u",
                  2015u + static_cast<unsigned>(year % 11), 1u + static_cast<unsigned>(month % 12),
                  1u + static_cast<unsigned>(day % 28));
    // The shortest text that reads back as exactly this double.
    char value[32];
    const auto written =
        std::to_chars(value, value + sizeof(value), static_cast<double>(cents) / 100.0);

    row.resize(columns_.size());
    Set(row[0], LoadField::Kind::kLiteral, std::to_string(id_));
    Set(row[1], LoadField::Kind::kText,
        std::string(kFirst[first % kFirst.size()]) + " " + kLast[last % kLast.size()]);
    Set(row[2], LoadField::Kind::kText, email);
    Set(row[3], LoadField::Kind::kText, kRegions[region % kRegions.size()]);
    Set(row[4], LoadField::Kind::kText, kTiers[tier % kTiers.size()]);
    Set(row[5], LoadField::Kind::kText, joined);
    Set(row[6], LoadField::Kind::kLiteral, std::string(value, written.ptr));
    return true;
  }

  Status Rewind() override {
    id_ = 0;
    lcg_ = kSeed;
    return Status::Ok();
  }
  int64_t line() const override { return id_; }
  uint64_t bytes_read() const override { return 0; }
  uint64_t total_bytes() const override { return 0; }
  const std::string& name() const override { return name_; }

 private:
  static void Set(LoadField& field, LoadField::Kind kind, std::string text) {
    field.kind = kind;
    field.text = std::move(text);
  }
  uint64_t Draw() {
    lcg_ = lcg_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return lcg_ >> 33;
  }

  const int64_t rows_;
  int64_t id_ = 0;
  uint64_t lcg_ = kSeed;
  const std::vector<std::string> columns_ = {"member_id", "name",      "email",         "region",
                                             "tier",      "joined_on", "lifetime_value"};
  const std::string name_ = "demo members";
};

}  // namespace

Status LoadDemoMembers(Engine& engine, int64_t rows) {
  LoadRequest request;
  request.database = "analytics";
  request.table = "members";
  request.create = true;
  request.keep_existing = true;
  request.columns = {{"member_id", "INTEGER"},  {"name", "TEXT"}, {"email", "TEXT"},
                     {"region", "TEXT"},        {"tier", "TEXT"}, {"joined_on", "TEXT"},
                     {"lifetime_value", "REAL"}};
  DemoMembersSource source(rows);
  return engine.Load(request, source, nullptr).status();
}

}  // namespace lakegate::engine
