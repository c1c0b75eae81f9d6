// State-store URLs of the PostgreSQL store: redaction for messages and logs.
// Pure, thread-safe; no libpq.
#pragma once

#include <string>
#include <string_view>

namespace lakegate::store {

// `url` with any password replaced by "***": the userinfo password of a
// postgresql:// or postgres:// URI ("postgresql://app:***@db/lakegate") and a
// password= query parameter or key/value pair. Everything else is kept, so an
// operator still sees which host, port and database was meant (an '@' in the
// query of a URI without userinfo may read "%40", the same to libpq).
std::string RedactPostgresUrl(std::string_view url);

}  // namespace lakegate::store
