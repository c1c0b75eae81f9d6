// Row filters: a strict recursive-descent parser for the PartiQL subset of
// policy.h, the SQL compiler and the reference evaluator. Pure; a parsed
// RowFilter is immutable and may be shared between threads.
#include <cstdio>
#include <utility>

#include "common/strings.h"
#include "policy/expression_lexer.h"
#include "policy/policy.h"

namespace lakegate::policy {

struct RowFilterNode {
  enum class Kind { kConst, kAnd, kOr, kNot, kCompare, kIn, kBetween, kLike, kIsNull };
  Kind kind = Kind::kConst;
  bool value = false;    // kConst
  bool negated = false;  // NOT IN, NOT BETWEEN, NOT LIKE, IS NOT NULL
  std::string op;        // kCompare: "=", "<>", "<", "<=", ">", ">="
  std::string column;    // as written (unquoted)
  std::vector<RowFilter::Value> literals;  // kCompare: 1, kIn: 1+, kBetween: 2, kLike: 1 text
  std::shared_ptr<const RowFilterNode> left, right;  // kAnd/kOr: both; kNot: left
};

namespace {

using internal::IsComparison;
using internal::kMaxDepth;
using internal::LiteralSql;
using internal::Token;

using Node = RowFilterNode;
using NodePtr = std::shared_ptr<const RowFilterNode>;
using Value = RowFilter::Value;

Status ErrorAt(size_t pos, const std::string& what) {
  return internal::kRowFilterDialect.ErrorAt(pos, what);
}
std::string Describe(const Token& t) { return internal::kRowFilterDialect.Describe(t); }

// ---------------------------------------------------------------------------
// Parser

bool IsKeyword(std::string_view word) {
  for (std::string_view k : {"AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS", "NULL", "TRUE",
                             "FALSE"}) {
    if (EqualsIgnoreCase(word, k)) return true;
  }
  return false;
}

class Parser : private internal::TokenCursor {
 public:
  explicit Parser(std::vector<Token> tokens) : TokenCursor(std::move(tokens)) {}

  Result<NodePtr> Parse() {
    LG_ASSIGN_OR_RETURN(NodePtr root, ParseOr(0));
    if (Peek().type != Token::Type::kEnd) {
      return ErrorAt(Peek().pos, "expected AND, OR or the end of the filter, found " +
                                     Describe(Peek()));
    }
    return root;
  }

 private:

  static NodePtr Binary(Node::Kind kind, NodePtr a, NodePtr b) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->left = std::move(a);
    n->right = std::move(b);
    return n;
  }

  Result<NodePtr> ParseOr(int depth) {
    LG_ASSIGN_OR_RETURN(NodePtr left, ParseAnd(depth));
    while (PeekKeyword("OR")) {
      Take();
      LG_ASSIGN_OR_RETURN(NodePtr right, ParseAnd(depth));
      left = Binary(Node::Kind::kOr, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseAnd(int depth) {
    LG_ASSIGN_OR_RETURN(NodePtr left, ParseNot(depth));
    while (PeekKeyword("AND")) {
      Take();
      LG_ASSIGN_OR_RETURN(NodePtr right, ParseNot(depth));
      left = Binary(Node::Kind::kAnd, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseNot(int depth) {
    if (!PeekKeyword("NOT")) return ParsePrimary(depth);
    const Token& t = Take();
    if (depth + 1 > kMaxDepth) return ErrorAt(t.pos, "nested more than 64 levels");
    LG_ASSIGN_OR_RETURN(NodePtr child, ParseNot(depth + 1));
    auto n = std::make_shared<Node>();
    n->kind = Node::Kind::kNot;
    n->left = std::move(child);
    return NodePtr(std::move(n));
  }

  Result<NodePtr> ParsePrimary(int depth) {
    const Token& t = Peek();
    if (PeekSymbol("(")) {
      Take();
      if (depth + 1 > kMaxDepth) return ErrorAt(t.pos, "nested more than 64 levels");
      LG_ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
      if (!PeekSymbol(")")) {
        return ErrorAt(Peek().pos, "expected ')', found " + Describe(Peek()));
      }
      Take();
      return inner;
    }
    if (PeekKeyword("TRUE") || PeekKeyword("FALSE")) {
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kConst;
      n->value = PeekKeyword("TRUE");
      Take();
      return NodePtr(std::move(n));
    }
    bool column = t.type == Token::Type::kQuotedIdent ||
                  (t.type == Token::Type::kWord && !IsKeyword(t.text));
    if (!column) return ErrorAt(t.pos, "expected a column name, found " + Describe(t));
    auto n = std::make_shared<Node>();
    n->column = Take().text;
    return ParsePredicate(std::move(n));
  }

  Result<NodePtr> ParsePredicate(std::shared_ptr<Node> n) {
    const Token& t = Peek();
    if (t.type == Token::Type::kSymbol && IsComparison(t.text)) {
      n->kind = Node::Kind::kCompare;
      n->op = t.text == "!=" ? "<>" : t.text;
      Take();
      LG_ASSIGN_OR_RETURN(Value v, ParseLiteral());
      n->literals.push_back(std::move(v));
      return NodePtr(std::move(n));
    }
    if (PeekKeyword("IS")) {
      Take();
      n->kind = Node::Kind::kIsNull;
      if (PeekKeyword("NOT")) {
        Take();
        n->negated = true;
      }
      if (!PeekKeyword("NULL")) return ErrorAt(Peek().pos, "expected NULL, found " + Describe(Peek()));
      Take();
      return NodePtr(std::move(n));
    }
    if (PeekKeyword("NOT")) {
      Take();
      n->negated = true;
      if (!PeekKeyword("IN") && !PeekKeyword("BETWEEN") && !PeekKeyword("LIKE")) {
        return ErrorAt(Peek().pos, "expected IN, BETWEEN or LIKE after NOT, found " +
                                       Describe(Peek()));
      }
    }
    if (PeekKeyword("IN")) {
      Take();
      n->kind = Node::Kind::kIn;
      if (!PeekSymbol("(")) return ErrorAt(Peek().pos, "expected '(' after IN, found " + Describe(Peek()));
      Take();
      while (true) {
        LG_ASSIGN_OR_RETURN(Value v, ParseLiteral());
        n->literals.push_back(std::move(v));
        if (PeekSymbol(",")) {
          Take();
          continue;
        }
        if (PeekSymbol(")")) {
          Take();
          break;
        }
        return ErrorAt(Peek().pos, "expected ',' or ')' in the IN list, found " + Describe(Peek()));
      }
      return NodePtr(std::move(n));
    }
    if (PeekKeyword("BETWEEN")) {
      Take();
      n->kind = Node::Kind::kBetween;
      LG_ASSIGN_OR_RETURN(Value low, ParseLiteral());
      if (!PeekKeyword("AND")) return ErrorAt(Peek().pos, "expected AND in BETWEEN, found " + Describe(Peek()));
      Take();
      LG_ASSIGN_OR_RETURN(Value high, ParseLiteral());
      n->literals = {std::move(low), std::move(high)};
      return NodePtr(std::move(n));
    }
    if (PeekKeyword("LIKE")) {
      Take();
      n->kind = Node::Kind::kLike;
      if (Peek().type != Token::Type::kString) {
        return ErrorAt(Peek().pos, "expected a string pattern after LIKE, found " + Describe(Peek()));
      }
      Value v;
      v.type = Value::Type::kText;
      v.t = Take().text;
      n->literals.push_back(std::move(v));
      return NodePtr(std::move(n));
    }
    std::string hint = PeekSymbol("(") ? " (functions are not allowed)" : "";
    return ErrorAt(t.pos, "expected a comparison operator, IN, BETWEEN, LIKE or IS after column " +
                              n->column + ", found " + Describe(t) + hint);
  }

  Result<Value> ParseLiteral() {
    const Token& t = Peek();
    Value v;
    if (t.type == Token::Type::kString) {
      v.type = Value::Type::kText;
      v.t = Take().text;
      return v;
    }
    if (t.type == Token::Type::kNumber) {
      LG_ASSIGN_OR_RETURN(v, internal::NumberValue(internal::kRowFilterDialect, t.text, t.pos));
      Take();
      return v;
    }
    if (t.type == Token::Type::kWord) {
      if (EqualsIgnoreCase(t.text, "NULL")) {
        Take();
        return v;
      }
      if (EqualsIgnoreCase(t.text, "TRUE") || EqualsIgnoreCase(t.text, "FALSE")) {
        v.type = Value::Type::kInteger;
        v.i = EqualsIgnoreCase(t.text, "TRUE") ? 1 : 0;
        Take();
        return v;
      }
    }
    std::string hint = t.type == Token::Type::kWord || t.type == Token::Type::kQuotedIdent
                           ? " (a filter compares a column with literals only)"
                           : "";
    return ErrorAt(t.pos, "expected a literal (number, 'string', TRUE, FALSE or NULL), found " +
                              Describe(t) + hint);
  }

};

// ---------------------------------------------------------------------------
// SQL

void AppendSql(const Node& n, const std::function<std::string(std::string_view)>& column_sql,
               std::string& out) {
  auto column = [&] {
    // No affinity (unary +) and BINARY collation: the comparison is the one
    // Matches() evaluates, whatever the column's declared type or collation.
    return "(+" + column_sql(n.column) + " COLLATE BINARY)";
  };
  switch (n.kind) {
    case Node::Kind::kConst:
      out += n.value ? "1" : "0";
      return;
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
      out += "(";
      AppendSql(*n.left, column_sql, out);
      out += n.kind == Node::Kind::kAnd ? " AND " : " OR ";
      AppendSql(*n.right, column_sql, out);
      out += ")";
      return;
    case Node::Kind::kNot:
      out += "(NOT ";
      AppendSql(*n.left, column_sql, out);
      out += ")";
      return;
    case Node::Kind::kCompare:
      out += "(" + column() + " " + n.op + " " + LiteralSql(n.literals[0]) + ")";
      return;
    case Node::Kind::kIn: {
      out += "(" + column() + (n.negated ? " NOT IN (" : " IN (");
      for (size_t i = 0; i < n.literals.size(); ++i) {
        if (i > 0) out += ", ";
        out += LiteralSql(n.literals[i]);
      }
      out += "))";
      return;
    }
    case Node::Kind::kBetween: {
      std::string c = column();
      std::string both = "(" + c + " >= " + LiteralSql(n.literals[0]) + " AND " + c +
                         " <= " + LiteralSql(n.literals[1]) + ")";
      out += n.negated ? "(NOT " + both + ")" : both;
      return;
    }
    case Node::Kind::kLike:
      out += "(" + column() + (n.negated ? " NOT LIKE " : " LIKE ") + LiteralSql(n.literals[0]) +
             ")";
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
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    if (i + len > s.size()) len = 1;
    uint32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
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

Result<RowFilter> ParseRowFilter(std::string_view text) {
  LG_RETURN_IF_ERROR(internal::CheckText(internal::kRowFilterDialect, text));
  RowFilter filter;
  filter.text = std::string(text);
  if (TrimWhitespace(text).empty()) return filter;  // all rows
  LG_ASSIGN_OR_RETURN(std::vector<Token> tokens, internal::Lex(internal::kRowFilterDialect, text));
  Parser parser(std::move(tokens));
  LG_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  // A filter that is just TRUE is all rows.
  if (!(root->kind == Node::Kind::kConst && root->value)) filter.root = std::move(root);
  return filter;
}

std::vector<std::string> RowFilter::Columns() const {
  std::vector<std::string> out;
  if (root) CollectColumns(*root, out);
  return out;
}

std::string RowFilter::ToSql(
    const std::function<std::string(std::string_view column)>& column_sql) const {
  if (!root) return "1";
  std::string out;
  AppendSql(*root, column_sql, out);
  return out;
}

bool RowFilter::Matches(const std::function<Value(std::string_view column)>& value) const {
  if (!root) return true;
  return Eval(*root, value) == Tri::kTrue;
}

}  // namespace lakegate::policy
