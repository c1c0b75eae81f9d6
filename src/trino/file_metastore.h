// The columns of a table in the lake catalog's Hive file metastore
// (hive.metastore=file, as scripts/trino.sh configures it): the table's
// definition is DIR/<schema>/<table>/.trinoSchema, a JSON document whose
// dataColumns and partitionColumns list the columns in table order. Lets the
// decision point know a table's columns without asking Trino (which would
// ask the decision point again). Thread-safe (reads a file per call).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lakegate::trino {

// The column names of `schema`.`table` (matched in lower case, as Trino
// stores them) under `metastore_dir`; empty when the names are not plain
// identifiers, the table is not there, or its definition does not parse.
std::vector<std::string> FileMetastoreColumns(const std::string& metastore_dir,
                                              std::string_view schema, std::string_view table);

}  // namespace lakegate::trino
