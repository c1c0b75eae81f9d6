#include "jose/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace lakegate::jose {
namespace {

using nlohmann::json;

constexpr size_t kMaxJsonDepth = 16;

// A SAX pass that builds nothing and rejects what nlohmann's DOM parser would
// silently accept: duplicate member names (the DOM keeps the last one) and
// deep nesting (bounded before the DOM is built).
class StrictChecker {
 public:
  bool duplicate() const { return duplicate_; }

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return false; }
  bool start_object(std::size_t) {
    open_.push_back(true);
    keys_.emplace_back();
    return open_.size() <= kMaxJsonDepth;
  }
  bool key(json::string_t& name) {
    if (!keys_.back().insert(name).second) {
      duplicate_ = true;
      return false;
    }
    return true;
  }
  bool end_object() {
    open_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    open_.push_back(false);
    return open_.size() <= kMaxJsonDepth;
  }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

 private:
  std::vector<bool> open_;                   // true: object, false: array
  std::vector<std::set<std::string>> keys_;  // member names of each open object
  bool duplicate_ = false;
};

}  // namespace

bool ParseStrict(std::string_view text, json* out, bool* duplicate) {
  try {
    StrictChecker checker;
    bool ok = json::sax_parse(text, &checker);
    *duplicate = checker.duplicate();
    if (!ok) return false;
    *out = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return !out->is_discarded();
  } catch (const std::exception&) {  // allocation failure
    return false;
  }
}

}  // namespace lakegate::jose
