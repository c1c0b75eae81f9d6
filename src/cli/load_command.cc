#include "cli/load_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/engines.h"
#include "app/trino_link.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/strings.h"
#include "engine/file_sources.h"
#include "engine/load.h"

namespace lakegate::cli {
namespace {

std::string DefaultConfigPath() {
  if (const char* env = std::getenv("LAKEGATE_CONFIG"); env && *env) return env;
  return "./lakegate-demo/stack.yaml";
}

std::string FormatBytes(uint64_t bytes) {
  char buf[32];
  double b = static_cast<double>(bytes);
  if (b >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  } else if (b >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  } else if (b >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

// Renders load progress on stderr: a redrawn bar on a terminal (at most 10
// times a second), else plain lines at most once a second. Single-threaded.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(::isatty(STDERR_FILENO) == 1) {}

  void Update(const engine::LoadProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (p.phase != phase_) {  // a new pass starts now
      phase_ = p.phase;
      phase_start_ = now;
    }
    auto interval = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000);
    if (now - last_ < interval) return;
    // Plain lines start only after the first second, so quick loads stay quiet.
    if (!tty_ && now - start_ < std::chrono::seconds(1)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - phase_start_).count();
    double rate = secs > 0 ? static_cast<double>(p.rows) / secs : 0;
    const char* what = p.phase == engine::LoadProgress::Phase::kScanning ? "scanning" : "loading";
    double fraction = p.total_bytes > 0
                          ? static_cast<double>(p.bytes_read) / static_cast<double>(p.total_bytes)
                          : 0;
    if (fraction > 1) fraction = 1;
    char line[256];
    if (tty_) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(fraction * kWidth);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.append(static_cast<size_t>(kWidth - filled), '-');
      std::snprintf(line, sizeof line, "\r%-8s [%s] %3d%%  %s / %s  %lld rows  %.0f rows/s\x1b[K",
                    what, bar.c_str(), static_cast<int>(fraction * 100),
                    FormatBytes(p.bytes_read).c_str(), FormatBytes(p.total_bytes).c_str(),
                    static_cast<long long>(p.rows), rate);
      drawn_ = true;
    } else {
      std::snprintf(line, sizeof line, "lakegate: %s: %lld rows, %s of %s (%d%%), %.0f rows/s\n",
                    what, static_cast<long long>(p.rows), FormatBytes(p.bytes_read).c_str(),
                    FormatBytes(p.total_bytes).c_str(), static_cast<int>(fraction * 100), rate);
    }
    std::cerr << line << std::flush;
  }

  // Clears the bar (before the summary or an error message).
  void Finish() {
    if (drawn_) std::cerr << "\r\x1b[K" << std::flush;
    drawn_ = false;
  }

 private:
  bool tty_;
  bool drawn_ = false;
  engine::LoadProgress::Phase phase_ = engine::LoadProgress::Phase::kLoading;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point phase_start_ = start_;
  std::chrono::steady_clock::time_point last_{};
};

struct LoadFlags {
  std::string target;  // DATABASE.TABLE
  std::string file;
  bool create = false;
  std::string format;  // "" = from the extension
  std::string lake;
  std::string config;
};

std::string FormatFromExtension(const std::string& file) {
  std::string ext = AsciiLower(std::filesystem::path(file).extension().string());
  if (ext == ".csv") return "csv";
  if (ext == ".ndjson" || ext == ".jsonl") return "ndjson";
  return "";
}

void RunLoad(const LoadFlags& flags) {
  size_t dot = flags.target.find('.');
  if (dot == std::string::npos || flags.target.find('.', dot + 1) != std::string::npos) {
    Exit(Fail("expected DATABASE.TABLE, e.g. analytics.members; got '" + flags.target + "'"));
  }
  std::string database = flags.target.substr(0, dot);
  std::string table = flags.target.substr(dot + 1);

  std::string format = flags.format.empty() ? FormatFromExtension(flags.file) : flags.format;
  if (format.empty()) {
    Exit(Fail("cannot tell the format of " + flags.file +
              " from its extension (.csv, .ndjson, .jsonl); pass --format csv|ndjson"));
  }

  std::string lake_dir = flags.lake;
  if (lake_dir.empty()) {
    auto stack = config::LoadStackFile(flags.config);
    if (!stack.ok()) {
      if (stack.status().code() == StatusCode::kNotFound) {
        Exit(Fail("no stack file at " + flags.config +
                  "; pass --lake DIR or --config FILE, set LAKEGATE_CONFIG, or run "
                  "`lakegate demo` first"));
      }
      Exit(Fail(stack.status()));
    }
    lake_dir = LakeDirFor(*stack);
  }

  // A Trino lake is written through the cluster, which authenticates lakegate
  // tokens: the load runs as lakegate's load principal with a token signed by
  // the state store's current key. Whoever may read the store (its signing
  // keys) may load; no secret travels on the command line.
  engine::EngineSettings settings;
  settings.create_if_missing = true;  // a missing lake directory: a load with --create makes it
  if (app::IsTrinoEngineUrl(lake_dir)) {
    Context ctx = OpenContext(flags.config);
    auto recorded = ctx.store->GetSetting("issuer");
    if (!recorded.ok()) Exit(Fail(recorded.status()));
    std::string issuer = !ctx.stack.issuer.empty() ? ctx.stack.issuer
                         : *recorded               ? **recorded
                                                   : "http://" + ctx.stack.listen.address + ":" +
                                           std::to_string(ctx.stack.listen.port);
    auto tokens = app::TrinoLoadTokenSource(*ctx.store, std::move(issuer));
    if (!tokens.ok()) Exit(Fail(tokens.status()));
    settings.bearer_token = std::move(*tokens);
  }

  auto source =
      format == "csv" ? engine::OpenCsvSource(flags.file) : engine::OpenNdjsonSource(flags.file);
  if (!source.ok()) Exit(Fail(source.status()));

  auto lake = app::OpenEngine(lake_dir, settings);
  if (!lake.ok()) Exit(Fail(lake.status()));
  engine::LoadRequest request;
  request.database = database;
  request.table = table;
  request.create = flags.create;

  ProgressPrinter printer;
  auto summary = (*lake)->Load(request, **source,
                               [&printer](const engine::LoadProgress& p) { printer.Update(p); });
  printer.Finish();
  if (!summary.ok()) {
    Exit(Fail(summary.status().message() + "; nothing was loaded"));
  }
  double rate = summary->seconds > 0 ? static_cast<double>(summary->rows) / summary->seconds : 0;
  char timing[96];
  std::snprintf(timing, sizeof timing, " in %.2f s (%.0f rows/s)", summary->seconds, rate);
  std::cout << "loaded " << summary->rows << (summary->rows == 1 ? " row" : " rows") << " into "
            << database << "." << table << (summary->created ? " (created)" : "") << timing << "\n"
            << "columns:";
  for (size_t i = 0; i < summary->columns.size(); ++i) {
    std::cout << (i == 0 ? " " : ", ") << summary->columns[i].name << " "
              << (summary->columns[i].type.empty() ? "(untyped)" : summary->columns[i].type);
  }
  std::cout << "\n";
}

}  // namespace

std::string LakeDirFor(const config::StackConfig& stack) {
  if (!stack.query.engine().empty()) return stack.query.engine();
  return (std::filesystem::path(stack.state_dir).parent_path() / "lake")
      .lexically_normal()
      .string();
}

void AddLoadCommand(CLI::App& app) {
  auto flags = std::make_shared<LoadFlags>();
  flags->config = DefaultConfigPath();
  CLI::App* cmd = app.add_subcommand(
      "load", "Load a CSV or NDJSON file into a lake table, all or nothing (one transaction)");
  cmd->add_option("target", flags->target, "DATABASE.TABLE, e.g. analytics.members")->required();
  cmd->add_option("file", flags->file, "CSV (with a header row) or NDJSON file")->required();
  cmd->add_flag("--create", flags->create,
                "Create the table when missing, with column types inferred from the file "
                "(INTEGER, REAL or TEXT)");
  cmd->add_option("--format,-f", flags->format, "Input format (default: from the extension)")
      ->check(CLI::IsMember({"csv", "ndjson"}));
  cmd->add_option("--lake,--engine", flags->lake,
                  "Lake directory holding <DATABASE>.db, or an engine URL (postgresql://..., "
                  "trino://HOST:PORT?dir=DIR) (default: the stack file's engine or lake)");
  cmd->add_option("--config,-c", flags->config,
                  "Stack file whose lake to use, and for a Trino engine whose state store signs "
                  "the load's token (default $LAKEGATE_CONFIG or ./lakegate-demo/stack.yaml)");
  AddStateOption(cmd);
  cmd->footer(
      "A bad record (wrong field count, invalid JSON, a value that does not fit a column's\n"
      "type) aborts the load with FILE:LINE and leaves the table unchanged. Empty CSV\n"
      "fields and JSON nulls load as NULL; nested JSON values load as JSON text.\n\n"
      "Trino engine (docs/trino.md): the rows are staged (as a file under the lake's local\n"
      "root when lakegate can write it, else by INSERTs into a staging table) and ONE\n"
      "statement publishes them (CREATE TABLE AS, a rename, or INSERT ... SELECT), so a\n"
      "load of any size is all or nothing. It runs as lakegate's load principal with a\n"
      "token signed by the stack's state store (--config, --state), and needs the lakegate\n"
      "node that serves the cluster's decisions running.\n\n"
      "Examples:\n"
      "  lakegate load analytics.events events.csv --create\n"
      "  lakegate load analytics.members more-members.ndjson --lake ./lakegate-demo/lake\n"
      "  lakegate load analytics.events events.csv --create -c /srv/lakegate/stack.yaml   "
      "# engine trino://...");
  cmd->callback([flags] { RunLoad(*flags); });
}

}  // namespace lakegate::cli
