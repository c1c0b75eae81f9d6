#include "client/display.h"

namespace lakegate::client {

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string FitToWidth(std::string_view s, size_t max_width) {
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {  // the first byte of a code point
      if (width == max_width - 3 && DisplayWidth(s.substr(i)) > 3) return out + "...";
      ++width;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace lakegate::client
