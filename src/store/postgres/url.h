// State-store URLs of the PostgreSQL store: redaction for messages and logs.
// Pure and thread-safe (libpq's parser is the judge of what it shows).
#pragma once

#include <string>
#include <string_view>

namespace lakegate::store {

// `url` with any password replaced by "***": the userinfo password of a
// postgresql:// or postgres:// URI ("postgresql://app:***@db/lakegate") and a
// password= query parameter or key/value pair. Everything else is kept, so an
// operator still sees which host, port and database was meant (an '@' in the
// query of a URI without userinfo may read "%40", the same to libpq). The text
// shown is checked with libpq: when hiding the passwords would change what
// libpq reads from the rest (URIs no one writes on purpose), what it reads from
// the original is shown instead, as a key/value string ("dbname='lg'
// host='db' password=*** user='app'", a host with an '@' as "***": likely
// the rest of a password with a raw '@').
std::string RedactPostgresUrl(std::string_view url);

}  // namespace lakegate::store
