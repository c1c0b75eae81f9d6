#include "http/router.h"

#include <gtest/gtest.h>

namespace lakegate::http {
namespace {

TEST(RouterTest, FindsExactPathsOnly) {
  Router router;
  router.Add(Method::kGet, "/a", [](std::shared_ptr<Exchange>) {});
  EXPECT_NE(router.FindPath("/a"), nullptr);
  EXPECT_EQ(router.FindPath("/a/"), nullptr);
  EXPECT_EQ(router.FindPath("/A"), nullptr);
  EXPECT_EQ(router.FindPath(""), nullptr);
}

TEST(RouterTest, HeadFallsBackToGetAndAllowIsStable) {
  Router router;
  router.Add(
      Method::kPost, "/r", [](std::shared_ptr<Exchange>) {}, RouteOptions{10});
  router.Add(Method::kGet, "/r", [](std::shared_ptr<Exchange>) {});
  const PathRoutes* routes = router.FindPath("/r");
  ASSERT_NE(routes, nullptr);
  EXPECT_EQ(routes->allow(), "GET, HEAD, POST");
  ASSERT_NE(routes->Find(Method::kHead), nullptr);
  EXPECT_EQ(routes->Find(Method::kHead)->method, Method::kGet);
  EXPECT_EQ(routes->Find(Method::kPost)->options.max_body_bytes, 10u);
  EXPECT_EQ(routes->Find(Method::kDelete), nullptr);
  EXPECT_EQ(routes->Find(Method::kOther), nullptr);
}

TEST(RouterTest, ReAddingReplacesTheRoute) {
  Router router;
  router.Add(
      Method::kPost, "/r", [](std::shared_ptr<Exchange>) {}, RouteOptions{1});
  router.Add(
      Method::kPost, "/r", [](std::shared_ptr<Exchange>) {}, RouteOptions{2});
  EXPECT_EQ(router.FindPath("/r")->Find(Method::kPost)->options.max_body_bytes, 2u);
  EXPECT_EQ(router.FindPath("/r")->allow(), "POST");
}

TEST(MessageTest, MethodsRoundTripAndAreCaseSensitive) {
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch,
                   Method::kDelete, Method::kOptions}) {
    EXPECT_EQ(ParseMethod(MethodName(m)), m);
  }
  EXPECT_EQ(ParseMethod("get"), Method::kOther);
  EXPECT_EQ(ParseMethod("BREW"), Method::kOther);
}

TEST(MessageTest, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Content-Type", "a"}, {"content-type", "b"}, {"X", ""}};
  EXPECT_EQ(r.GetHeader("CONTENT-TYPE"), "a");
  EXPECT_EQ(r.CountHeader("Content-type"), 2u);
  EXPECT_EQ(r.CountHeader("x"), 1u);
  EXPECT_EQ(r.GetHeader("missing"), "");
}

TEST(MessageTest, JsonErrorEscapes) {
  EXPECT_EQ(JsonError("not_found", "no route for /\"x\""),
            "{\"error\":\"not_found\",\"error_description\":\"no route for /\\\"x\\\"\"}");
  EXPECT_EQ(JsonError("server_error"), "{\"error\":\"server_error\"}");
  EXPECT_EQ(StatusReason(431), "Request Header Fields Too Large");
  EXPECT_EQ(StatusReason(299), "Unknown");
}

}  // namespace
}  // namespace lakegate::http
