#include "common/sql_quote.h"

namespace lakegate {
namespace {

std::string Quoted(std::string_view s, char quote) {
  std::string out(1, quote);
  out.reserve(s.size() + 2);
  for (char c : s) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

}  // namespace

std::string QuoteIdent(std::string_view name) { return Quoted(name, '"'); }

std::string QuoteString(std::string_view text) { return Quoted(text, '\''); }

}  // namespace lakegate
