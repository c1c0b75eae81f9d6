// Endpoint normalization, secrets files and the client_secret_basic header.
#include "client/credentials.h"

#include <gtest/gtest.h>

#include "client/client_auth.h"
#include "common/base64url.h"
#include "common/files.h"
#include "fake_lakegate.h"
#include "testing/status_matchers.h"

namespace lakegate::client {
namespace {

using ::lakegate::testing::HasStatus;
using testing::TempDir;

TEST(EndpointTest, TrailingSlashesGoAndOnlyHttpOrHttpsIsAccepted) {
  Result<std::string> endpoint = NormalizeEndpoint("https://lakegate.example:8443//");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  EXPECT_EQ(*endpoint, "https://lakegate.example:8443");
  EXPECT_EQ(*NormalizeEndpoint("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_TRUE(HasStatus(NormalizeEndpoint("ftp://127.0.0.1/").status(),
                        StatusCode::kInvalidArgument,
                        "endpoint must start with http:// or https://: ftp://127.0.0.1"));
  EXPECT_EQ(NormalizeEndpoint("127.0.0.1:8080").status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretsFileTest, ReadsIdAndSecret) {
  TempDir dir;
  const std::string path = dir.path() + "/s.json";
  ASSERT_TRUE(WriteFileAtomic(path, R"({"client_id":"cid","client_secret":"sec"})").ok());
  Result<SecretsFile> file = ReadSecretsFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->client_id, "cid");
  EXPECT_EQ(file->client_secret.Reveal(), "sec");

  ASSERT_TRUE(WriteFileAtomic(path, R"({"client_secret":"sec","client_id":7})").ok());
  file = ReadSecretsFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->client_id, "");
}

TEST(SecretsFileTest, MissingOrMalformedFilesAreErrors) {
  TempDir dir;
  const std::string path = dir.path() + "/s.json";
  EXPECT_EQ(ReadSecretsFile(path).status().code(), StatusCode::kNotFound);
  for (const char* text : {"", "[]", R"({"client_id":"cid"})", R"({"client_secret":1})"}) {
    ASSERT_TRUE(WriteFileAtomic(path, text).ok());
    EXPECT_TRUE(HasStatus(
        ReadSecretsFile(path).status(), StatusCode::kInvalidArgument,
        "secrets file " + path + " must be a JSON object with a string \"client_secret\""))
        << text;
  }
}

TEST(ClientSecretBasicTest, FormEncodesIdAndSecretBeforeBasicEncoding) {
  TokenRequest request;
  request.client_id = "svc one";
  ASSERT_TRUE(ClientSecretBasic(SecretString("p:ss/+w")).Authenticate(request).ok());
  ASSERT_EQ(request.headers.size(), 1u);
  EXPECT_EQ(request.headers[0].name, "Authorization");
  EXPECT_EQ(request.headers[0].value, "Basic " + Base64Encode("svc%20one:p%3Ass%2F%2Bw"));
  EXPECT_TRUE(request.form.empty());
}

}  // namespace
}  // namespace lakegate::client
