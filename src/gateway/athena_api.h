// AthenaApi: the Amazon Athena JSON protocol (awsJson1_1) on lakegate's
// listener, so boto3, the AWS CLI, PyAthena and the JDBC/ODBC drivers' API
// calls run against lakegate unchanged:
//
//   POST /   X-Amz-Target: AmazonAthena.<Operation>
//            Content-Type: application/x-amz-json-1.1        (awsJson1_1)
//   GET /query-executions/{id}, POST /query-executions, ...  (restJson1, as
//            the Athena model of current botocore releases describes it)
//
// Both protocols carry the same operations with the same input and output
// members; one dispatcher serves them.
//
// Queries are AsyncQueries executions (the same as POST /v1/queries: the same
// engine call, governance, per-client slots and asynchronous timeout); the
// metadata operations read the engine's catalog for the caller's role, so a
// role sees exactly the databases, tables and columns it sees through
// /v1/catalog. Operations: StartQueryExecution, GetQueryExecution,
// BatchGetQueryExecution, GetQueryResults, StopQueryExecution,
// ListQueryExecutions, ListDataCatalogs, GetDataCatalog, ListDatabases,
// GetDatabase, ListTableMetadata, GetTableMetadata, ListWorkGroups,
// GetWorkGroup. Errors are AWS's shape (http::ErrorFamily::kAws). The
// catalog is "AwsDataCatalog" (any case), the work group "primary".
// docs/athena.md has the details and the type mapping.
//
// Authentication is one call (Authenticate) that yields the same Identity as
// a Bearer token on /v1/query: `Authorization: Bearer <token>`, or an AWS
// Signature Version 4 header when a SigV4 authenticator is configured.
//
// Thread-safe; handlers block (engine catalog, spool files): run them on a
// worker, as the Pipeline does.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "gateway/async_queries.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/pipeline.h"

namespace lakegate::gateway {

// Athena's own failures; each names its AWS exception type.
enum class AthenaFailure {
  kInvalidRequest,      // 400 InvalidRequestException
  kMetadata,            // 400 MetadataException: no such catalog, database or table
  kUnknownOperation,    // 400 UnknownOperationException: an X-Amz-Target we do not serve
  kSerialization,       // 400 SerializationException: the body is not the operation's JSON
  kUnrecognizedClient,  // 401 UnrecognizedClientException: credentials of an unknown kind
};
const ReasonDomain& ReasonDomainOf(AthenaFailure);
Status AthenaError(AthenaFailure reason, std::string message);

// An Athena operation of the REST-JSON protocol (what current botocore
// speaks: GET /query-executions/{id}, POST /query-executions, ...) and its
// input as the JSON protocol's body: path and query members merged into the
// body's.
struct RestOperation {
  std::string operation;  // "GetQueryExecution", ...
  std::string input;      // a JSON object
};
// UnknownOperationException for a method and path that name none;
// SerializationException for a body that is not a JSON object.
Result<RestOperation> ParseRestOperation(http::Method method, std::string_view path,
                                         std::string_view query, std::string_view body);

// The Athena type name of a result or table column: from the declared type
// (SQLite's rules: ...INT... → integer, BIGINT → bigint, REAL/DOUBLE →
// double, TEXT/CHAR/CLOB → varchar, DATE → date, ...), else, for an
// expression without one (count(*)), from its values: an integer is bigint,
// a real double, text varchar, a blob varbinary.
std::string AthenaTypeName(std::string_view declared_type, engine::ValueType value_type);

// Athena's StatementType of a statement: "DDL" (CREATE, DROP, ALTER), "DML"
// (SELECT, WITH, VALUES, INSERT, UPDATE, DELETE) or "UTILITY" (the rest).
std::string_view AthenaStatementType(std::string_view sql);

class AthenaApi {
 public:
  // Every reference must outlive the api. `sigv4` (may be empty) verifies an
  // `Authorization: AWS4-HMAC-SHA256 ...` request.
  AthenaApi(AsyncQueries& queries, engine::Engine& engine, BearerAuthenticator& bearer,
            const GatewayOptions& options, Authenticate sigv4 = {});

  // The route's authentication: the Bearer token or the SigV4 signature.
  Result<std::shared_ptr<const Identity>> Authenticate(const http::Request& request) const;

  // POST / (the JSON protocol): dispatches on X-Amz-Target.
  void Handle(const std::shared_ptr<Call>& call);
  // The REST-JSON protocol (/query-executions, /data-catalogs, /workgroups,
  // ...): dispatches on method and path.
  void HandleRest(const std::shared_ptr<Call>& call);

 private:
  // Runs `op` with `input` (a JSON object) and answers in `content_type`.
  void Dispatch(const std::shared_ptr<Call>& call, std::string_view op, std::string_view input,
                std::string_view content_type);

  AsyncQueries& queries_;
  engine::Engine& engine_;
  BearerAuthenticator& bearer_;
  const GatewayOptions& options_;
  const gateway::Authenticate sigv4_;
};

}  // namespace lakegate::gateway
