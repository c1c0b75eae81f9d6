// The SQL dialects the policy's expressions (row filters, mask expressions)
// compile to: one per engine that evaluates them.
#pragma once

namespace lakegate::policy {

enum class SqlDialect { kSQLite, kPostgreSQL, kTrino };

}  // namespace lakegate::policy
