// Row filters: a strict recursive-descent parser for the PartiQL subset of
// policy.h, the SQL compiler and the reference evaluator. Pure; a parsed
// RowFilter is immutable and may be shared between threads.
#include <array>
#include <cstdio>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "policy/expression_lexer.h"
#include "policy/expression_parser.h"
#include "policy/policy.h"

namespace lakegate::policy {

struct RowFilterNode {
  enum class Kind { kConst, kAnd, kOr, kNot, kCompare, kIn, kBetween, kLike, kIsNull };
  Kind kind = Kind::kConst;
  bool value = false;                      // kConst
  bool negated = false;                    // NOT IN, NOT BETWEEN, NOT LIKE, IS NOT NULL
  std::string op;                          // kCompare: "=", "<>", "<", "<=", ">", ">="
  std::string column;                      // as written (unquoted)
  std::vector<RowFilter::Value> literals;  // kCompare: 1, kIn: 1+, kBetween: 2, kLike: 1 text
  std::shared_ptr<const RowFilterNode> left, right;  // kAnd/kOr: both; kNot: left
};

namespace {

using internal::LiteralSql;
using internal::Token;

using Node = RowFilterNode;
using NodePtr = std::shared_ptr<const RowFilterNode>;
using Value = RowFilter::Value;
using Predicate = internal::Predicate<Value>;

// The node kind of each Predicate::Kind, in its order.
constexpr std::array<Node::Kind, Predicate::kKindCount> kPredicateKinds = {
    Node::Kind::kCompare, Node::Kind::kIsNull, Node::Kind::kIn, Node::Kind::kBetween,
    Node::Kind::kLike};

// ---------------------------------------------------------------------------
// Parser: the shared grammar (expression_parser.h) with a column predicate as
// the operand and literals on the right of every predicate.

class Parser : public internal::ExpressionParser<Parser, NodePtr, Value> {
 public:
  Parser(const internal::Dialect& dialect, std::vector<Token> tokens)
      : ExpressionParser(dialect, std::move(tokens)) {}

  Result<NodePtr> Parse() { return ParseExpression(); }

 private:
  friend ExpressionParser;
  static constexpr std::string_view kExpectedAtEnd = "AND, OR or the end of the filter";
  static constexpr bool kListItemsNest = false;

  Result<NodePtr> MakeLogical(internal::Logical op, size_t, NodePtr left, NodePtr right) {
    auto n = std::make_shared<Node>();
    n->kind = op == internal::Logical::kAnd  ? Node::Kind::kAnd
              : op == internal::Logical::kOr ? Node::Kind::kOr
                                             : Node::Kind::kNot;
    n->left = std::move(left);
    n->right = std::move(right);
    return NodePtr(std::move(n));
  }

  // parens | TRUE | FALSE | column predicate
  Result<NodePtr> ParseOperand(int depth) {
    const Token& t = Peek();
    if (PeekSymbol("(")) return ParseParenthesized(depth);
    if (PeekKeyword("TRUE") || PeekKeyword("FALSE")) {
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kConst;
      n->value = PeekKeyword("TRUE");
      Take();
      return NodePtr(std::move(n));
    }
    bool column = t.type == Token::Type::kQuotedIdent ||
                  (t.type == Token::Type::kWord && !internal::IsSharedKeyword(t.text));
    if (!column) return ErrorAt(t.pos, "expected a column name, found " + Describe(t));
    auto n = std::make_shared<Node>();
    n->column = Take().text;
    const Token& after = Peek();
    LG_ASSIGN_OR_RETURN(std::optional<Predicate> predicate, ParsePredicate(depth));
    if (!predicate) {
      std::string hint = PeekSymbol("(") ? " (functions are not allowed)" : "";
      return ErrorAt(after.pos,
                     "expected a comparison operator, IN, BETWEEN, LIKE or IS after column " +
                         n->column + ", found " + Describe(after) + hint);
    }
    n->kind = kPredicateKinds[static_cast<size_t>(predicate->kind)];
    n->op = std::move(predicate->op);
    n->negated = predicate->negated;
    n->literals = std::move(predicate->operands);
    return NodePtr(std::move(n));
  }

  Result<Value> ParseComparand(int) { return ParseLiteral(); }
  Result<Value> ParseListItem(int) { return ParseLiteral(); }

  Result<Value> ParsePattern(int) {
    if (Peek().type != Token::Type::kString) return Expected("a string pattern after LIKE");
    Value v;
    v.type = Value::Type::kText;
    v.t = Take().text;
    return v;
  }

  Result<Value> ParseLiteral() {
    LG_ASSIGN_OR_RETURN(std::optional<Value> literal, TakeLiteral());
    if (literal) return std::move(*literal);
    const Token& t = Peek();
    std::string hint = t.type == Token::Type::kWord || t.type == Token::Type::kQuotedIdent
                           ? " (a filter compares a column with literals only)"
                           : "";
    return ErrorAt(t.pos, "expected a literal (number, 'string', TRUE, FALSE or NULL), found " +
                              Describe(t) + hint);
  }
};

// ---------------------------------------------------------------------------
// SQL

// The dialect differences, one small function each.

// A column reference for a comparison. SQLite: no affinity (unary +) and
// BINARY collation, so the comparison is the one Matches() evaluates whatever
// the column's declared type or collation. PostgreSQL and Trino: the column
// as it is; they compare typed values (a number column with a text literal is
// a type error there, where SQLite says false: such a filter fails to compile,
// never admits other rows), and the literal carries the collation rules.
std::string ColumnSql(SqlDialect dialect, const std::string& column) {
  if (dialect != SqlDialect::kSQLite) return column;
  return "(+" + column + " COLLATE BINARY)";
}

// A literal. PostgreSQL: text is explicitly text (an unknown-typed literal
// would be coerced to the column's type: '5' = 5 would hold) and compares
// bytewise. Trino: a varchar literal, which compares by code point (UTF-8
// byte order) and is never coerced.
std::string LiteralFor(SqlDialect dialect, const Value& v) {
  if (dialect == SqlDialect::kPostgreSQL && v.type == Value::Type::kText) {
    return "(" + LiteralSql(v) + "::text COLLATE \"C\")";
  }
  return LiteralSql(v);
}

std::string ConstSql(SqlDialect dialect, bool value) {
  if (dialect != SqlDialect::kSQLite) return value ? "TRUE" : "FALSE";
  return value ? "1" : "0";
}

// `column LIKE pattern` with SQLite's default rules: ASCII-only case folding,
// no escape character. PostgreSQL and Trino fold ASCII letters only too
// (translate() on the column, the pattern folded here), so a non-ASCII letter
// matches exactly as in SQLite; translate() takes text only, so a LIKE on a
// number column is a compile error (SQLite would match the number's text),
// never a different answer.
std::string LikeSql(SqlDialect dialect, const std::string& column, const Value& pattern,
                    bool negated) {
  const char* op = negated ? " NOT LIKE " : " LIKE ";
  if (dialect == SqlDialect::kSQLite) return "(" + column + op + LiteralSql(pattern) + ")";
  static constexpr std::string_view kUpper = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
  static constexpr std::string_view kLower = "'abcdefghijklmnopqrstuvwxyz'";
  Value folded = pattern;
  for (char& c : folded.t) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string folded_column =
      "translate(" + column + ", " + std::string(kUpper) + ", " + std::string(kLower) + ")";
  if (dialect == SqlDialect::kPostgreSQL) {
    return "(" + folded_column + " COLLATE \"C\"" + op + LiteralSql(folded) + "::text ESCAPE '')";
  }
  return "(" + folded_column + op + LiteralSql(folded) + ")";
}

void AppendSql(const Node& n, const std::function<std::string(std::string_view)>& column_sql,
               SqlDialect dialect, std::string& out) {
  auto column = [&] { return ColumnSql(dialect, column_sql(n.column)); };
  auto literal = [&](size_t i) { return LiteralFor(dialect, n.literals[i]); };
  switch (n.kind) {
    case Node::Kind::kConst:
      out += ConstSql(dialect, n.value);
      return;
    case Node::Kind::kAnd:
    case Node::Kind::kOr: {
      // A chain of one connective reads flat, "(a OR b OR c)": AND and OR
      // are associative (in three-valued logic too), and nested parentheses
      // would cost SQLite's parser a stack entry per link (it refuses a few
      // dozen with "parser stack overflow").
      std::vector<const Node*> operands;
      std::vector<const Node*> pending = {n.right.get(), n.left.get()};
      while (!pending.empty()) {
        const Node* o = pending.back();
        pending.pop_back();
        if (o->kind == n.kind) {
          pending.push_back(o->right.get());
          pending.push_back(o->left.get());
        } else {
          operands.push_back(o);
        }
      }
      out += "(";
      for (size_t i = 0; i < operands.size(); ++i) {
        if (i > 0) out += n.kind == Node::Kind::kAnd ? " AND " : " OR ";
        AppendSql(*operands[i], column_sql, dialect, out);
      }
      out += ")";
      return;
    }
    case Node::Kind::kNot:
      // NOT NOT x is x (in three-valued logic too).
      if (n.left->kind == Node::Kind::kNot) {
        AppendSql(*n.left->left, column_sql, dialect, out);
        return;
      }
      out += "(NOT ";
      AppendSql(*n.left, column_sql, dialect, out);
      out += ")";
      return;
    case Node::Kind::kCompare:
      out += "(" + column() + " " + n.op + " " + literal(0) + ")";
      return;
    case Node::Kind::kIn: {
      out += "(" + column() + (n.negated ? " NOT IN (" : " IN (");
      for (size_t i = 0; i < n.literals.size(); ++i) {
        if (i > 0) out += ", ";
        out += literal(i);
      }
      out += "))";
      return;
    }
    case Node::Kind::kBetween: {
      std::string c = column();
      std::string both = "(" + c + " >= " + literal(0) + " AND " + c + " <= " + literal(1) + ")";
      out += n.negated ? "(NOT " + both + ")" : both;
      return;
    }
    case Node::Kind::kLike:
      out += LikeSql(dialect, column(), n.literals[0], n.negated);
      return;
    case Node::Kind::kIsNull:
      out += "(" + column() + (n.negated ? " IS NOT NULL)" : " IS NULL)");
      return;
  }
}

void CollectColumns(const Node& n, std::vector<std::string>& out) {
  if (n.left) CollectColumns(*n.left, out);
  if (n.right) CollectColumns(*n.right, out);
  if (n.column.empty()) return;
  for (const auto& c : out) {
    if (EqualsIgnoreCase(c, n.column)) return;
  }
  out.push_back(n.column);
}

// ---------------------------------------------------------------------------
// Evaluation (SQL three-valued logic, SQLite's comparison without affinity)

enum class Tri { kFalse, kTrue, kUnknown };

Tri Not(Tri t) {
  if (t == Tri::kUnknown) return t;
  return t == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
}
Tri FromBool(bool b) { return b ? Tri::kTrue : Tri::kFalse; }

// Storage-class order of SQLite: numbers < text (NULL handled by callers).
int Compare(const Value& a, const Value& b) {
  bool an = a.type != Value::Type::kText;
  bool bn = b.type != Value::Type::kText;
  if (an != bn) return an ? -1 : 1;
  if (!an) {
    int c = a.t.compare(b.t);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.type == Value::Type::kInteger && b.type == Value::Type::kInteger) {
    return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  }
  long double x = a.type == Value::Type::kInteger ? static_cast<long double>(a.i) : a.r;
  long double y = b.type == Value::Type::kInteger ? static_cast<long double>(b.i) : b.r;
  return x < y ? -1 : x > y ? 1 : 0;
}

Tri CompareOp(const Value& a, const std::string& op, const Value& b) {
  if (a.type == Value::Type::kNull || b.type == Value::Type::kNull) return Tri::kUnknown;
  int c = Compare(a, b);
  if (op == "=") return FromBool(c == 0);
  if (op == "<>") return FromBool(c != 0);
  if (op == "<") return FromBool(c < 0);
  if (op == "<=") return FromBool(c <= 0);
  if (op == ">") return FromBool(c > 0);
  return FromBool(c >= 0);
}

// SQLite's text rendering of a value (what LIKE sees).
std::string AsText(const Value& v) {
  if (v.type == Value::Type::kText) return v.t;
  if (v.type == Value::Type::kInteger) return std::to_string(v.i);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.15g", v.r);
  std::string s = buf;
  if (s.find_first_of(".ein") == std::string::npos) {
    s += ".0";
  } else if (s.find('.') == std::string::npos && s.find('e') != std::string::npos) {
    s.insert(s.find('e'), ".0");
  }
  return s;
}

std::vector<uint32_t> CodePoints(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 1;
    if (i + len > s.size()) len = 1;
    uint32_t cp = len == 1 ? c : static_cast<uint32_t>(c & (0xff >> (len + 1)));
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(cp);
    i += len;
  }
  return out;
}

uint32_t FoldAscii(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// SQLite's default LIKE: '%' any run, '_' one character, ASCII case-insensitive.
bool Like(std::string_view pattern, std::string_view text) {
  std::vector<uint32_t> p = CodePoints(pattern);
  std::vector<uint32_t> t = CodePoints(text);
  size_t i = 0, j = 0, star = std::string::npos, mark = 0;
  while (i < t.size()) {
    if (j < p.size() && p[j] != '%' && (p[j] == '_' || FoldAscii(p[j]) == FoldAscii(t[i]))) {
      ++i;
      ++j;
    } else if (j < p.size() && p[j] == '%') {
      star = j++;
      mark = i;
    } else if (star != std::string::npos) {
      j = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (j < p.size() && p[j] == '%') ++j;
  return j == p.size();
}

Tri Eval(const Node& n, const std::function<Value(std::string_view)>& value) {
  switch (n.kind) {
    case Node::Kind::kConst:
      return FromBool(n.value);
    case Node::Kind::kAnd: {
      Tri a = Eval(*n.left, value);
      if (a == Tri::kFalse) return a;
      Tri b = Eval(*n.right, value);
      if (b == Tri::kFalse) return b;
      return a == Tri::kTrue && b == Tri::kTrue ? Tri::kTrue : Tri::kUnknown;
    }
    case Node::Kind::kOr: {
      Tri a = Eval(*n.left, value);
      if (a == Tri::kTrue) return a;
      Tri b = Eval(*n.right, value);
      if (b == Tri::kTrue) return b;
      return a == Tri::kFalse && b == Tri::kFalse ? Tri::kFalse : Tri::kUnknown;
    }
    case Node::Kind::kNot:
      return Not(Eval(*n.left, value));
    case Node::Kind::kCompare:
      return CompareOp(value(n.column), n.op, n.literals[0]);
    case Node::Kind::kIn: {
      Value v = value(n.column);
      if (v.type == Value::Type::kNull) return Tri::kUnknown;
      Tri result = Tri::kFalse;
      for (const auto& lit : n.literals) {
        Tri eq = CompareOp(v, "=", lit);
        if (eq == Tri::kTrue) {
          result = Tri::kTrue;
          break;
        }
        if (eq == Tri::kUnknown) result = Tri::kUnknown;
      }
      return n.negated ? Not(result) : result;
    }
    case Node::Kind::kBetween: {
      Value v = value(n.column);
      Tri lo = CompareOp(v, ">=", n.literals[0]);
      Tri hi = CompareOp(v, "<=", n.literals[1]);
      Tri both = lo == Tri::kFalse || hi == Tri::kFalse ? Tri::kFalse
                 : lo == Tri::kTrue && hi == Tri::kTrue ? Tri::kTrue
                                                        : Tri::kUnknown;
      return n.negated ? Not(both) : both;
    }
    case Node::Kind::kLike: {
      Value v = value(n.column);
      if (v.type == Value::Type::kNull) return Tri::kUnknown;
      bool m = Like(n.literals[0].t, AsText(v));
      return FromBool(n.negated ? !m : m);
    }
    case Node::Kind::kIsNull: {
      bool is_null = value(n.column).type == Value::Type::kNull;
      return FromBool(n.negated ? !is_null : is_null);
    }
  }
  return Tri::kUnknown;
}

}  // namespace

namespace {

Result<RowFilter> ParseWith(std::string_view text, const internal::Dialect& dialect) {
  LG_RETURN_IF_ERROR(internal::CheckText(dialect, text));
  RowFilter filter;
  filter.text = std::string(text);
  if (TrimWhitespace(text).empty()) return filter;  // all rows
  LG_ASSIGN_OR_RETURN(std::vector<Token> tokens, internal::Lex(dialect, text));
  Parser parser(dialect, std::move(tokens));
  LG_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  // A filter that is just TRUE is all rows.
  if (!(root->kind == Node::Kind::kConst && root->value)) filter.root = std::move(root);
  return filter;
}

}  // namespace

Result<RowFilter> ParseRowFilter(std::string_view text) {
  return ParseWith(text, internal::kRowFilterDialect);
}

Result<RowFilter> ParseStoredRowFilter(std::string_view text) {
  return ParseWith(text, internal::kStoredRowFilterDialect);
}

std::vector<std::string> RowFilter::Columns() const {
  std::vector<std::string> out;
  if (root) CollectColumns(*root, out);
  return out;
}

std::string RowFilter::ToSql(const std::function<std::string(std::string_view column)>& column_sql,
                             SqlDialect dialect) const {
  if (!root) return ConstSql(dialect, true);
  std::string out;
  AppendSql(*root, column_sql, dialect, out);
  return out;
}

bool RowFilter::Matches(const std::function<Value(std::string_view column)>& value) const {
  if (!root) return true;
  return Eval(*root, value) == Tri::kTrue;
}

}  // namespace lakegate::policy
