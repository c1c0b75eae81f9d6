#include "engine/sqlite/bounded_functions.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace lakegate::engine::sqlite_internal {
namespace {

WorkMeter& MeterOf(sqlite3_context* ctx) {
  return *static_cast<WorkMeter*>(sqlite3_user_data(ctx));
}

// The call stops the statement: the deadline passed (or the client left).
void Stop(sqlite3_context* ctx) {
  sqlite3_result_error(ctx, "interrupted", -1);
  sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
}

int64_t Units(size_t n) { return static_cast<int64_t>(n); }

// ---- UTF-8 as SQLite reads it (a lead byte >= 0xc0 takes every
// continuation byte that follows; overlong forms, surrogates and U+FFFE/F
// read as U+FFFD) ----

constexpr uint32_t kLeadBits[64] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x00,
};

// Reads one character of a NUL-terminated string and advances `*p` past it.
uint32_t ReadUtf8(const unsigned char** p) {
  uint32_t c = *((*p)++);
  if (c >= 0xc0) {
    c = kLeadBits[c - 0xc0];
    while ((**p & 0xc0) == 0x80) c = (c << 6) + (0x3f & *((*p)++));
    if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 || (c & 0xFFFFFFFE) == 0xFFFE) c = 0xFFFD;
  }
  return c;
}

void SkipUtf8(const unsigned char** p) {
  if (*((*p)++) >= 0xc0) {
    while ((**p & 0xc0) == 0x80) ++(*p);
  }
}

uint32_t AsciiLower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }
uint32_t AsciiUpper(uint32_t c) { return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c; }

// ---- LIKE and GLOB: SQLite's matching rules, metered ----

struct PatternRules {
  uint32_t match_all;  // '%' or '*'; 0 when it is the escape character
  uint32_t match_one;  // '_' or '?'; 0 when it is the escape character
  bool sets;           // GLOB's [...] character sets
  bool no_case;        // LIKE folds ASCII case
};
constexpr PatternRules kLike{'%', '_', false, true};
constexpr PatternRules kGlob{'*', '?', true, false};

enum class Match { kYes, kNo, kNoWildcardMatch, kStopped };

class Matcher {
 public:
  // `other` is the escape character (LIKE, 0 for none) or '[' (GLOB).
  Matcher(const PatternRules& rules, uint32_t other, WorkMeter& meter)
      : rules_(rules), other_(other), meter_(meter) {}

  Match Compare(const unsigned char* pattern, const unsigned char* str) {
    const unsigned char* escaped = nullptr;
    uint32_t c;
    while ((c = ReadUtf8(&pattern)) != 0) {
      if (!meter_.Add(1)) return Match::kStopped;
      if (c == rules_.match_all) return AfterWildcard(pattern, str);
      if (c == other_) {
        if (!rules_.sets) {
          c = ReadUtf8(&pattern);
          if (c == 0) return Match::kNo;
          escaped = pattern;
        } else {
          if (!InSet(&pattern, &str)) return Match::kNo;
          continue;
        }
      }
      uint32_t c2 = ReadUtf8(&str);
      if (c == c2) continue;
      if (rules_.no_case && c < 0x80 && c2 < 0x80 && AsciiLower(c) == AsciiLower(c2)) continue;
      if (c == rules_.match_one && pattern != escaped && c2 != 0) continue;
      return Match::kNo;
    }
    return *str == 0 ? Match::kYes : Match::kNo;
  }

 private:
  // The pattern just read a match_all: skip the wildcards that follow, then
  // try the rest of the pattern at every place the next character occurs.
  // A failure there fails the whole match (kNoWildcardMatch), which keeps
  // nested wildcards from backtracking exponentially.
  Match AfterWildcard(const unsigned char* pattern, const unsigned char* str) {
    uint32_t c;
    // (Stopping at the pattern's end even when a wildcard is the escape
    // character and reads as 0.)
    while ((c = ReadUtf8(&pattern)) != 0 && (c == rules_.match_all || c == rules_.match_one)) {
      if (c == rules_.match_one && ReadUtf8(&str) == 0) return Match::kNoWildcardMatch;
    }
    if (c == 0) return Match::kYes;
    if (c == other_) {
      if (!rules_.sets) {
        c = ReadUtf8(&pattern);
        if (c == 0) return Match::kNoWildcardMatch;
      } else {
        // A set right after the wildcard: try it at every character.
        while (*str != 0) {
          if (!meter_.Add(1)) return Match::kStopped;
          Match m = Compare(pattern - 1, str);
          if (m != Match::kNo) return m;
          SkipUtf8(&str);
        }
        return Match::kNoWildcardMatch;
      }
    }
    if (c < 0x80) {
      char stop[3] = {static_cast<char>(c), 0, 0};
      if (rules_.no_case) {
        stop[0] = static_cast<char>(AsciiUpper(c));
        stop[1] = static_cast<char>(AsciiLower(c));
      }
      while (true) {
        const size_t skip = std::strcspn(reinterpret_cast<const char*>(str), stop);
        if (!meter_.Add(Units(skip) + 1)) return Match::kStopped;
        str += skip;
        if (*str == 0) break;
        ++str;
        Match m = Compare(pattern, str);
        if (m != Match::kNo) return m;
      }
    } else {
      uint32_t c2;
      while ((c2 = ReadUtf8(&str)) != 0) {
        if (!meter_.Add(1)) return Match::kStopped;
        if (c2 != c) continue;
        Match m = Compare(pattern, str);
        if (m != Match::kNo) return m;
      }
    }
    return Match::kNoWildcardMatch;
  }

  // GLOB's [...] (the '[' already read) against the next character of
  // `*str`; advances both.
  bool InSet(const unsigned char** pattern, const unsigned char** str) {
    uint32_t c = ReadUtf8(str);
    if (c == 0) return false;
    uint32_t prior = 0;
    bool seen = false;
    bool invert = false;
    uint32_t c2 = ReadUtf8(pattern);
    if (c2 == '^') {
      invert = true;
      c2 = ReadUtf8(pattern);
    }
    if (c2 == ']') {
      if (c == ']') seen = true;
      c2 = ReadUtf8(pattern);
    }
    while (c2 != 0 && c2 != ']') {
      meter_.Add(1);  // bounded by the pattern; the caller checks the meter
      if (c2 == '-' && (*pattern)[0] != ']' && (*pattern)[0] != 0 && prior > 0) {
        c2 = ReadUtf8(pattern);
        if (c >= prior && c <= c2) seen = true;
        prior = 0;
      } else {
        if (c == c2) seen = true;
        prior = c2;
      }
      c2 = ReadUtf8(pattern);
    }
    return c2 != 0 && seen != invert;
  }

  const PatternRules& rules_;
  const uint32_t other_;
  WorkMeter& meter_;
};

// like(P, S[, E]) and glob(P, S): S matches the pattern P.
void PatternFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv, PatternRules rules) {
  const unsigned char* pattern = sqlite3_value_text(argv[0]);
  const unsigned char* str = sqlite3_value_text(argv[1]);
  const int pattern_bytes = sqlite3_value_bytes(argv[0]);
  sqlite3* db = sqlite3_context_db_handle(ctx);
  if (pattern_bytes > sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, -1)) {
    sqlite3_result_error(ctx, "LIKE or GLOB pattern too complex", -1);
    return;
  }
  uint32_t other = rules.sets ? '[' : 0;
  if (argc == 3) {
    const unsigned char* esc = sqlite3_value_text(argv[2]);
    if (esc == nullptr) return;  // NULL
    const unsigned char* p = esc;
    int chars = 0;
    while (*p != 0) {
      SkipUtf8(&p);
      ++chars;
    }
    if (chars != 1) {
      sqlite3_result_error(ctx, "ESCAPE expression must be a single character", -1);
      return;
    }
    other = ReadUtf8(&esc);
    if (other == rules.match_all) rules.match_all = 0;
    if (other == rules.match_one) rules.match_one = 0;
  }
  if (pattern == nullptr || str == nullptr) return;  // NULL
  WorkMeter& meter = MeterOf(ctx);
  if (!meter.Add(pattern_bytes)) return Stop(ctx);
  Match m = Matcher(rules, other, meter).Compare(pattern, str);
  if (m == Match::kStopped) return Stop(ctx);
  sqlite3_result_int(ctx, m == Match::kYes ? 1 : 0);
}

void LikeFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  PatternFunction(ctx, argc, argv, kLike);
}
void GlobFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  PatternFunction(ctx, argc, argv, kGlob);
}

// ---- instr and replace: linear-time search (glibc's memmem is
// two-way/linear for long needles) ----

const unsigned char* Find(const unsigned char* hay, size_t hay_len, const unsigned char* needle,
                          size_t needle_len) {
  if (needle_len == 1)
    return static_cast<const unsigned char*>(std::memchr(hay, needle[0], hay_len));
  return static_cast<const unsigned char*>(::memmem(hay, hay_len, needle, needle_len));
}

// instr(H, N): the 1-based character position of the first N in H, 0 when
// there is none; bytes when both are blobs. Positions count as SQLite
// counts them: a text match may start only at a byte that is not a UTF-8
// continuation byte (or at the very start).
void InstrFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const int hay_type = sqlite3_value_type(argv[0]);
  const int needle_type = sqlite3_value_type(argv[1]);
  if (hay_type == SQLITE_NULL || needle_type == SQLITE_NULL) return;
  const bool text = !(hay_type == SQLITE_BLOB && needle_type == SQLITE_BLOB);
  sqlite3_value* hay_value = argv[0];
  sqlite3_value* needle_value = argv[1];
  sqlite3_value* hay_copy = nullptr;
  sqlite3_value* needle_copy = nullptr;
  if (text && (hay_type == SQLITE_BLOB || needle_type == SQLITE_BLOB)) {
    // One of each: both as text, on copies (as SQLite does).
    hay_value = hay_copy = sqlite3_value_dup(argv[0]);
    needle_value = needle_copy = sqlite3_value_dup(argv[1]);
  }
  struct Free {
    sqlite3_value* a;
    sqlite3_value* b;
    ~Free() {
      sqlite3_value_free(a);
      sqlite3_value_free(b);
    }
  } free_copies{hay_copy, needle_copy};
  if (hay_value == nullptr || needle_value == nullptr) return sqlite3_result_error_nomem(ctx);
  const auto* hay = static_cast<const unsigned char*>(
      text ? static_cast<const void*>(sqlite3_value_text(hay_value))
           : sqlite3_value_blob(hay_value));
  const auto hay_len = static_cast<size_t>(sqlite3_value_bytes(hay_value));
  const auto* needle = static_cast<const unsigned char*>(
      text ? static_cast<const void*>(sqlite3_value_text(needle_value))
           : sqlite3_value_blob(needle_value));
  const auto needle_len = static_cast<size_t>(sqlite3_value_bytes(needle_value));
  if (needle_len == 0) return sqlite3_result_int(ctx, 1);
  if (needle == nullptr || (hay_len > 0 && hay == nullptr)) return sqlite3_result_error_nomem(ctx);
  if (!MeterOf(ctx).Add(Units(hay_len + needle_len))) return Stop(ctx);
  size_t from = 0;
  while (from + needle_len <= hay_len) {
    const unsigned char* hit = Find(hay + from, hay_len - from, needle, needle_len);
    if (hit == nullptr) break;
    const auto at = static_cast<size_t>(hit - hay);
    if (!text || at == 0 || (hay[at] & 0xc0) != 0x80) {
      int64_t position = 1;
      if (!text) {
        position += static_cast<int64_t>(at);
      } else if (at > 0) {
        position += 1;  // the first character
        for (size_t i = 1; i < at; ++i) position += (hay[i] & 0xc0) != 0x80 ? 1 : 0;
      }
      return sqlite3_result_int64(ctx, position);
    }
    from = at + 1;
  }
  sqlite3_result_int(ctx, 0);
}

// replace(S, P, R): S with every non-overlapping P, left to right, replaced
// by R; S itself when P is empty (or starts with a NUL byte).
void ReplaceFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const unsigned char* str = sqlite3_value_text(argv[0]);
  if (str == nullptr) return;
  const auto str_len = static_cast<size_t>(sqlite3_value_bytes(argv[0]));
  const unsigned char* pattern = sqlite3_value_text(argv[1]);
  if (pattern == nullptr) return;
  if (pattern[0] == 0) {
    sqlite3_result_text64(ctx, reinterpret_cast<const char*>(str), str_len, SQLITE_TRANSIENT,
                          SQLITE_UTF8);
    return;
  }
  const auto pattern_len = static_cast<size_t>(sqlite3_value_bytes(argv[1]));
  const unsigned char* rep = sqlite3_value_text(argv[2]);
  if (rep == nullptr) return;
  const auto rep_len = static_cast<size_t>(sqlite3_value_bytes(argv[2]));
  WorkMeter& meter = MeterOf(ctx);
  if (!meter.Add(Units(str_len + pattern_len))) return Stop(ctx);
  const auto limit =
      static_cast<size_t>(sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1));
  // The output in SQLite's heap (charged to the statement's memory budget),
  // doubled as it grows; never longer than the length limit.
  size_t capacity = std::min(str_len, limit) + 1;
  auto* out = static_cast<unsigned char*>(sqlite3_malloc64(capacity));
  if (out == nullptr) return sqlite3_result_error_nomem(ctx);
  size_t size = 0;
  auto append = [&](const unsigned char* bytes, size_t n) -> int {
    if (size + n > limit) return SQLITE_TOOBIG;
    if (size + n + 1 > capacity) {
      capacity = std::min(std::max(capacity * 2, size + n + 1), limit + 1);
      auto* grown = static_cast<unsigned char*>(sqlite3_realloc64(out, capacity));
      if (grown == nullptr) return SQLITE_NOMEM;
      out = grown;
    }
    std::memcpy(out + size, bytes, n);
    size += n;
    return SQLITE_OK;
  };
  size_t from = 0;
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK && from + pattern_len <= str_len) {
    const unsigned char* hit = Find(str + from, str_len - from, pattern, pattern_len);
    if (hit == nullptr) break;
    const auto at = static_cast<size_t>(hit - str);
    rc = append(str + from, at - from);
    if (rc == SQLITE_OK) rc = append(rep, rep_len);
    from = at + pattern_len;
    if (rc == SQLITE_OK && !meter.Add(Units(rep_len) + 1)) rc = SQLITE_INTERRUPT;
  }
  if (rc == SQLITE_OK) rc = append(str + from, str_len - from);
  if (rc != SQLITE_OK) {
    sqlite3_free(out);
    if (rc == SQLITE_TOOBIG) return sqlite3_result_error_toobig(ctx);
    if (rc == SQLITE_NOMEM) return sqlite3_result_error_nomem(ctx);
    return Stop(ctx);
  }
  out[size] = 0;
  sqlite3_result_text64(ctx, reinterpret_cast<const char*>(out), size, sqlite3_free, SQLITE_UTF8);
}

// ---- trim, ltrim, rtrim: the characters of the set, found in a hash set
// instead of one comparison per set character ----

constexpr int kTrimLeft = 1;
constexpr int kTrimRight = 2;

class CharSet {
 public:
  // The characters of the NUL-terminated `set` as SQLite splits them.
  explicit CharSet(const unsigned char* set) {
    const unsigned char* p = set;
    while (*p != 0) {
      const unsigned char* start = p;
      SkipUtf8(&p);
      std::string_view ch(reinterpret_cast<const char*>(start), static_cast<size_t>(p - start));
      // A later duplicate never matches first: keep the first of each.
      if (ch.size() == 1) {
        bool& known = single_[static_cast<unsigned char>(ch[0])];
        if (known) continue;
        known = true;
      } else {
        if (!seen_.insert(ch).second) continue;
        all_single_ = false;
      }
      order_.push_back(ch);
    }
  }
  bool empty() const { return order_.empty(); }

  // The length of the set character that SQLite takes at the start (left)
  // or the end (right) of `s`: the first one of the set, in set order, that
  // matches there. 0 when none does.
  size_t MatchAt(std::string_view s, bool left, WorkMeter& meter, bool* stop) const {
    if (all_single_) {
      return single_[static_cast<unsigned char>(left ? s.front() : s.back())] ? 1 : 0;
    }
    for (std::string_view ch : order_) {
      if (!meter.Add(Units(ch.size()))) {
        *stop = true;
        return 0;
      }
      if (ch.size() > s.size()) continue;
      if (left ? s.substr(0, ch.size()) == ch : s.substr(s.size() - ch.size()) == ch) {
        return ch.size();
      }
    }
    return 0;
  }

 private:
  std::unordered_set<std::string_view> seen_;
  std::vector<std::string_view> order_;
  std::array<bool, 256> single_{};
  bool all_single_ = true;
};

template <int kSides>
void TrimFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  const unsigned char* in = sqlite3_value_text(argv[0]);
  if (in == nullptr) return;
  std::string_view s(reinterpret_cast<const char*>(in),
                     static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  const unsigned char* set = reinterpret_cast<const unsigned char*>(" ");
  if (argc == 2) {
    set = sqlite3_value_text(argv[1]);
    if (set == nullptr) return;
  }
  WorkMeter& meter = MeterOf(ctx);
  if (!meter.Add(Units(s.size()) + Units(std::strlen(reinterpret_cast<const char*>(set))))) {
    return Stop(ctx);
  }
  const CharSet chars(set);
  bool stop = false;
  if (!chars.empty()) {
    if ((kSides & kTrimLeft) != 0) {
      while (!s.empty()) {
        size_t n = chars.MatchAt(s, /*left=*/true, meter, &stop);
        if (n == 0) break;
        s.remove_prefix(n);
      }
    }
    if ((kSides & kTrimRight) != 0) {
      while (!s.empty() && !stop) {
        size_t n = chars.MatchAt(s, /*left=*/false, meter, &stop);
        if (n == 0) break;
        s.remove_suffix(n);
      }
    }
  }
  if (stop) return Stop(ctx);
  sqlite3_result_text64(ctx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace

int RegisterBoundedFunctions(sqlite3* db, WorkMeter* meter) {
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  struct Function {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  const Function functions[] = {
      {"like", 2, &LikeFunction},
      {"like", 3, &LikeFunction},
      {"glob", 2, &GlobFunction},
      {"instr", 2, &InstrFunction},
      {"replace", 3, &ReplaceFunction},
      {"trim", 1, &TrimFunction<kTrimLeft | kTrimRight>},
      {"trim", 2, &TrimFunction<kTrimLeft | kTrimRight>},
      {"ltrim", 1, &TrimFunction<kTrimLeft>},
      {"ltrim", 2, &TrimFunction<kTrimLeft>},
      {"rtrim", 1, &TrimFunction<kTrimRight>},
      {"rtrim", 2, &TrimFunction<kTrimRight>},
  };
  for (const Function& f : functions) {
    int rc = sqlite3_create_function_v2(db, f.name, f.args, kFlags, meter, f.fn, nullptr, nullptr,
                                        nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace lakegate::engine::sqlite_internal
