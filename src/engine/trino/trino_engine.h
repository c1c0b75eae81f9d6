// The Trino engine: runs the query API's statements on a Trino cluster through
// Trino's client REST protocol (POST /v1/statement, then GET nextUri until the
// query finishes; DELETE nextUri cancels).
//
// Governance happens inside Trino: the cluster's OPA access control asks
// lakegate (trino/opa_decider.h) about every object a statement touches. The
// engine authenticates each statement with a lakegate token whose subject is
// the engine principal of the caller's role and scope class
// ("lakegate:<class>:<role>", EnginePrincipal in trino/opa_decider.h), minted
// by EngineSettings::bearer_token, so Trino runs it with exactly that role's
// rights: no SQL construct reaches more. Loads run as the principal
// "lakegate:load" (the administrator's operation).
//
// URL: trino://HOST:PORT[?catalog=NAME&dir=DIR]: Trino's HTTPS port (Trino
// authenticates nothing over plain HTTP), the catalog that holds the lake
// (default "lake"), and the directory of a cluster started by
// scripts/trino.sh (default $TMPDIR/lakegate-trino), whose tls/ca.pem is
// trusted (else the system's trust store). A catalog database is a Trino
// schema of that catalog.
//
// Values: Trino's integer types read as INTEGER, real/double as REAL,
// boolean as an integer 0/1, everything else as TEXT (decimals, dates and
// timestamps in Trino's text form, arrays/maps/rows as JSON). Parameters are
// bound with Trino's EXECUTE ... USING: the SQL uses `?` placeholders.
// Errors: a table the role may not see reads like a missing one ("no such
// table, or the role may not read it", no name), a column it may not read
// like a missing one ("no such column: NAME"), as on every engine; Trino
// itself words them apart.
//
// Thread-safe: every Execute() uses its own HTTP exchanges.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/sql_quote.h"
#include "common/status.h"
#include "engine/engine.h"

namespace lakegate::engine {

// The principal loads run as (see the header comment).
inline constexpr std::string_view kTrinoLoadPrincipal = "lakegate:load";

// Opens the engine for `location` = "//HOST:PORT[?catalog=NAME]" (the URL
// after "trino:"). kMisconfigured when the URL is not of that form or
// settings.bearer_token is empty. Does not contact Trino: a cluster that is
// away makes calls fail with kUnavailable.
Result<std::unique_ptr<Engine>> OpenTrinoEngineAt(std::string_view location,
                                                  const EngineSettings& settings);

// Trino SQL quoting (the engine's statements and the OPA decision point's
// filter and mask expressions): common/sql_quote.h.
using ::lakegate::QuoteIdent;
using ::lakegate::QuoteString;

}  // namespace lakegate::engine
