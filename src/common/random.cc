#include "common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "common/base64url.h"
#include "common/strings.h"

namespace lakegate {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t filled = 0;
  while (filled < n) {
    ssize_t got = getrandom(out.data() + filled, n - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "fatal: getrandom failed (errno %d)\n", errno);
      std::abort();
    }
    filled += static_cast<size_t>(got);
  }
  return out;
}

std::string RandomToken(size_t n_bytes) { return Base64UrlEncode(RandomBytes(n_bytes)); }

std::string RandomHex(size_t n_bytes) { return HexEncode(RandomBytes(n_bytes)); }

}  // namespace lakegate
