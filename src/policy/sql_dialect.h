// The SQL dialects the policy's filters and masks compile to (RowFilter::ToSql,
// MaskExpression::ToSql): one per engine that runs them.
#pragma once

namespace lakegate::policy {

enum class SqlDialect { kSQLite, kPostgreSQL, kTrino };

}  // namespace lakegate::policy
