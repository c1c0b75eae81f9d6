#include "client/display.h"

#include <gtest/gtest.h>

namespace lakegate::client {
namespace {

TEST(DisplayTest, WidthCountsCodePoints) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("Zürich"), 6u);
  EXPECT_EQ(DisplayWidth(""), 0u);
}

TEST(DisplayTest, FitToWidthKeepsOneLineAndCutsWithAnEllipsis) {
  EXPECT_EQ(FitToWidth("short", 10), "short");
  EXPECT_EQ(FitToWidth("exactly10!", 10), "exactly10!");
  EXPECT_EQ(FitToWidth("eleven char", 10), "eleven ...");
  EXPECT_EQ(FitToWidth("a\nb\tc\rd\x7f", 40), "a\\nb c d ");
  EXPECT_EQ(FitToWidth("ééééééééééé", 10), "ééééééé...");
}

}  // namespace
}  // namespace lakegate::client
